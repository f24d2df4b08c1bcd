"""The national clouds the sandbox can pretend to be (graph-facts.md, "National clouds")."""

from dataclasses import dataclass

# Well-known application id of Microsoft Graph; Entra accepts it in place of the resource URL.
GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000"


@dataclass(frozen=True)
class Cloud:
    name: str
    graph: str
    login: str

    @property
    def scope(self):
        return self.graph + "/.default"

    def accepts_audience(self, aud):
        return aud in (self.graph, self.graph + "/", GRAPH_APP_ID)


CLOUDS = {
    "global": Cloud("global", "https://graph.microsoft.com", "https://login.microsoftonline.com"),
    "usgov": Cloud("usgov", "https://graph.microsoft.us", "https://login.microsoftonline.us"),
    "usgovdod": Cloud("usgovdod", "https://dod-graph.microsoft.us", "https://login.microsoftonline.us"),
    "china": Cloud("china", "https://microsoftgraph.chinacloudapi.cn", "https://login.chinacloudapi.cn"),
}
