"""The orchestrator: each tenant's job chain (Jira → GitHub → Vectorization) and its runs.

- `model` and `decisions`: the chain's data and pure decisions over it (which job starts,
  what a run's end does to the chain), with time passed in;
- `chain`: reading, locking and writing a tenant's chain; `advance_chain`, called in the
  transaction that ends a run;
- `start`: opening a job's run (a sync, a resumed failed run, or a vectorization pass);
- `tick`: the scheduler's periodic pass over every tenant;
- `control`: force start, pause, resume, cancel and retry, recorded with their actor;
- `parking`: the check a running handler makes between pages;
- `maintenance`: retention and stalled-job rescue for the scheduler.

This module imports nothing, so `app.runs` can import `chain` without a cycle.
"""
