"""Keys under which the aiohttp application holds the shared sandbox objects."""

from aiohttp import web

SANDBOX_KEY = web.AppKey("sandbox", object)
GRAPH_KEY = web.AppKey("graph", object)
