"""The facade's flow: ``load`` opens a snapshot, :class:`Replay` re-runs and inspects it."""
