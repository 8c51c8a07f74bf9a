"""How the OpenAPI schema describes the token header."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class HangarTokenScheme(OpenApiAuthenticationExtension):
    target_class = "tokens.authentication.HangarTokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Token <key>`: a personal token or a project CI token (hashed, expiring, revocable).",
        }
