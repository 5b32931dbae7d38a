"""The WebSocket shell: endpoint, per-connection session, outbound writer, transport hooks."""
