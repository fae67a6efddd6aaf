"""``export-test``: a snapshot's failing call as a readable pytest file and its inputs."""
