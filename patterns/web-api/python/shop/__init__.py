"""What the FastAPI and aiohttp.web versions of the shop share: the store and the tour."""
