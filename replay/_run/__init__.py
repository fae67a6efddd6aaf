"""Re-running the call and opening the frames: the death conditions, the verdict, the debuggers."""
