"""Event contracts: upcasting, the schema lock and its diff, the catalogue, AsyncAPI, Mermaid,
and consumer-contract helpers."""
