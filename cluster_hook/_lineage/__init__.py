"""Lost data recomputed from lineage, on the scheduler: :func:`recover`, :func:`wait_recovered`."""
