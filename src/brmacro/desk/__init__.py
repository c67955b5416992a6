"""The desk: listed contracts and rolls, the desk's positions, its book and the circuit breaker."""
