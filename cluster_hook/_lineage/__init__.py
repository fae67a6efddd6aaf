"""Lost data recomputed from lineage, on the scheduler (:func:`recover`, :func:`wait_recovered`), and the values brought within memory to the worker writing a snapshot (``gather``)."""
