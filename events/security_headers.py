"""CONTENT_SECURITY_POLICY on every answer (outside DEBUG): by default scripts, styles, images and
fonts from this site only, no inline script or style, no plugins, never framed, forms posted here
only. Django sets the other security headers itself (settings.py: SECURE_*, X_FRAME_OPTIONS)."""

from django.conf import settings
from django.http import HttpRequest, HttpResponse


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        policy = settings.CONTENT_SECURITY_POLICY
        if policy and "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = policy
        return response
