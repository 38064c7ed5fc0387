"""The knowledge base: articles, their versions and search (docs/knowledge-base.md)."""
