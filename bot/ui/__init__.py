"""What every handler shares: library texts and keyboards (views), who may do what (guards),
the place picker, and the registry of callback data (callbacks)."""
