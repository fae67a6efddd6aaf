"""What a snapshot shows, as text: the summary, the ``info`` page, how a worker died."""
