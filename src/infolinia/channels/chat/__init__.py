"""The web chat channel: an embeddable widget talking over a WebSocket, agents answering over theirs, every line
committed by one group-committing writer before it is acknowledged or delivered (docs/chat.md)."""
