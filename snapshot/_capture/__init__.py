"""The capture core: wrapper, budgets, memory guard, contents, storms and directory; no Dask."""
