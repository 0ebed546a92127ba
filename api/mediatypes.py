"""Media types as OpenWhisk's HTTP layer (pekko-http) reads them, for web actions.

Whether a body travels base64-encoded (binary) or as text, and how a content
type is written back, follow pekko-http's registry (``MediaTypes`` in
http-core ``scaladsl/model/MediaType.scala``) and its header parser
(``impl/model/parser/CommonActions.scala`` ``getMediaType``): a registered type
is binary or text as registered; a type not registered is text when the header
names a charset and binary otherwise (docs/webactions.md: "OpenWhisk uses the
Pekko Http framework to determine which content types are binary and which are
plain text").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Text types whose charset is fixed (UTF-8): written without a charset parameter.
FIXED_CHARSET = frozenset(
    """
    application/json application/json-patch+json application/merge-patch+json
    application/problem+json application/vnd.api+json application/x-www-form-urlencoded
    text/event-stream
    """.split()
)

# Text types that carry a charset: written with one (UTF-8 unless the body says).
OPEN_CHARSET = frozenset(
    """
    application/atom+xml application/base64 application/javascript application/rss+xml
    application/soap+xml application/vnd.google-earth.kml+xml application/x-latex
    application/x-vrml application/xhtml+xml application/xml-dtd application/xml
    application/problem+xml text/asp text/cache-manifest text/calendar text/css text/csv
    text/html text/markdown text/mcf text/plain text/richtext text/tab-separated-values
    text/uri-list text/vnd.wap.wml text/vnd.wap.wmlscript text/x-asm text/x-c
    text/x-component text/x-h text/x-java-source text/x-pascal text/x-script
    text/x-scriptcsh text/x-scriptelisp text/x-scriptksh text/x-scriptlisp
    text/x-scriptperl text/x-scriptperl-module text/x-scriptphyton text/x-scriptrexx
    text/x-scriptscheme text/x-scriptsh text/x-scripttcl text/x-scripttcsh
    text/x-scriptzsh text/x-server-parsed-html text/x-setext text/x-sgml text/x-speech
    text/x-uuencode text/x-vcalendar text/x-vcard text/xml
    """.split()
)

# Registered binary types (multipart/* is binary too).
BINARY = frozenset(
    """
    application/cbor application/gnutar application/java-archive application/grpc+proto
    application/lha application/lzx application/msword application/octet-stream
    application/pdf application/postscript application/vnd.google-earth.kmz
    application/vnd.ms-excel application/vnd.ms-excel.addin.macroenabled.12
    application/vnd.ms-excel.sheet.binary.macroenabled.12
    application/vnd.ms-excel.sheet.macroenabled.12
    application/vnd.ms-excel.template.macroenabled.12 application/vnd.ms-fontobject
    application/vnd.ms-powerpoint application/vnd.ms-powerpoint.addin.macroenabled.12
    application/vnd.ms-powerpoint.presentation.macroenabled.12
    application/vnd.ms-powerpoint.slideshow.macroenabled.12
    application/vnd.ms-word.document.macroenabled.12
    application/vnd.ms-word.template.macroenabled.12
    application/vnd.oasis.opendocument.chart application/vnd.oasis.opendocument.database
    application/vnd.oasis.opendocument.formula
    application/vnd.oasis.opendocument.graphics application/vnd.oasis.opendocument.image
    application/vnd.oasis.opendocument.presentation
    application/vnd.oasis.opendocument.spreadsheet
    application/vnd.oasis.opendocument.text
    application/vnd.oasis.opendocument.text-master
    application/vnd.oasis.opendocument.text-web
    application/vnd.openxmlformats-officedocument.presentationml.presentation
    application/vnd.openxmlformats-officedocument.presentationml.slide
    application/vnd.openxmlformats-officedocument.presentationml.slideshow
    application/vnd.openxmlformats-officedocument.presentationml.template
    application/vnd.openxmlformats-officedocument.spreadsheetml.sheet
    application/vnd.openxmlformats-officedocument.spreadsheetml.template
    application/vnd.openxmlformats-officedocument.wordprocessingml.document
    application/vnd.openxmlformats-officedocument.wordprocessingml.template
    application/x-7z-compressed application/x-ace-compressed
    application/x-apple-diskimage application/x-arc-compressed application/x-bzip
    application/x-bzip2 application/x-chrome-extension application/x-compress
    application/x-compressed application/x-debian-package application/x-dvi
    application/x-font-truetype application/x-font-opentype application/x-gtar
    application/x-gzip application/x-rar-compressed application/x-redhat-package-manager
    application/x-shockwave-flash application/x-tar application/x-tex
    application/x-texinfo application/x-x509-ca-cert application/x-xpinstall
    application/zip audio/aiff audio/basic audio/midi audio/mod audio/mpeg audio/ogg
    audio/voc audio/vorbis audio/voxware audio/wav audio/x-pn-realaudio audio/x-psid
    audio/xm audio/webm font/woff font/woff2 image/gif image/jpeg image/pict image/png
    image/svg+xml image/tiff image/x-icon image/x-ms-bmp image/x-pcx image/x-pict
    image/x-quicktime image/x-rgb image/x-xbitmap image/x-xpixmap image/webp
    message/http message/delivery-status message/rfc822 video/avs-video video/divx
    video/gl video/mp4 video/mpeg video/ogg video/quicktime video/x-dv video/x-flv
    video/x-motion-jpeg video/x-ms-asf video/x-msvideo video/x-sgi-movie video/webm
    """.split()
)

# RFC 9110 5.6.2: the type, the subtype and a parameter's name are tokens.
_TOKEN = r"[!#$%&'*+.^_`|~0-9A-Za-z-]+"
_MEDIA = re.compile(rf"\s*({_TOKEN})/({_TOKEN})\s*")
_PARAM = re.compile(rf';\s*({_TOKEN})\s*=\s*({_TOKEN}|"(?:[^"\\]|\\.)*")\s*')
# pekko's registered charsets (HttpCharsets), written in their canonical case.
_CHARSETS = {
    name.lower(): name
    for name in ("UTF-8", "ISO-8859-1", "US-ASCII", "UTF-16", "UTF-16BE", "UTF-16LE")
}


@dataclass(frozen=True)
class Media:
    """One ``Content-Type`` value, parsed: ``type`` is ``main/sub`` in lower case;
    ``params`` the parameters but the charset, in order; ``charset`` as named."""

    type: str
    params: tuple[tuple[str, str], ...] = ()
    charset: str | None = None

    @property
    def binary(self) -> bool:
        """Whether a body of this type travels base64-encoded."""
        if self.type in FIXED_CHARSET or self.type in OPEN_CHARSET:
            return False
        if self.type in BINARY or self.type.startswith("multipart/"):
            return True
        return self.charset is None

    @property
    def json_family(self) -> bool:
        """OpenWhisk's ``isJsonFamily``: ``application/json`` or any ``+json`` type."""
        return self.type == "application/json" or self.type.endswith("+json")

    def header(self, charset: str | None = None) -> str:
        """The value pekko-http writes for this type: a binary or fixed-charset type
        without a charset, a text type with ``charset`` (default: its own, if any)."""
        out = self.type + "".join(f"; {k}={v}" for k, v in self.params)
        if self.binary or self.type in FIXED_CHARSET:
            return out
        named = charset or self.charset
        if named is None:
            return out
        return f"{out}; charset={_CHARSETS.get(named.lower(), named)}"


def parse(value: str) -> Media | None:
    """A ``Content-Type`` header's value, or None when it is no ``type/subtype``
    with well-formed parameters."""
    match = _MEDIA.match(value)
    if match is None:
        return None
    params: list[tuple[str, str]] = []
    charset = None
    at = match.end()
    while value[at:].strip(" \t;"):
        found = _PARAM.match(value, at)
        if found is None:
            return None
        at = found.end()
        name, raw = found.group(1).lower(), found.group(2)
        if name == "charset":
            charset = raw.strip('"')
        else:
            params.append((name, raw))
    return Media(f"{match.group(1)}/{match.group(2)}".lower(), tuple(params), charset)


OCTET_STREAM = Media("application/octet-stream")
