"""Pages the server renders itself: the public forms a tenant embeds on its website."""
