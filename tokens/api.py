"""GET /api/me/: who the caller is and which token it uses (`hangar login` checks a token with it)."""

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from tokens.models import ApiToken


class TokenSerializer(serializers.Serializer):
    name = serializers.CharField()
    kind = serializers.ChoiceField(choices=["personal", "project"])
    project = serializers.CharField(allow_null=True, source="project.slug", default=None)
    role = serializers.CharField(allow_null=True)
    created_at = serializers.DateTimeField(source="created")
    expires_at = serializers.DateTimeField(source="expiry", allow_null=True)
    last_used_at = serializers.DateTimeField(allow_null=True)


class MeView(APIView):
    @extend_schema(
        responses=inline_serializer(
            "Me",
            {
                "username": serializers.CharField(),
                "is_superuser": serializers.BooleanField(),
                "token": TokenSerializer(allow_null=True),
            },
        )
    )
    def get(self, request):
        token = request.auth if isinstance(request.auth, ApiToken) else None
        data = None
        if token is not None:
            data = TokenSerializer(token).data
            data["role"] = token.role or None
        return Response(
            {"username": request.user.get_username(), "is_superuser": request.user.is_superuser, "token": data}
        )
