"""Voice of the customer: tags and embeddings for review and ticket text, through `llm` only."""
