"""The OpenAPI 3 description of the JSON endpoints (checked against the code by a test)."""

from __future__ import annotations

_ERROR_CONTENT = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
_ERROR = {"description": "The request cannot be answered as asked", "content": _ERROR_CONTENT}
_ERRORS = {
    "400": _ERROR,
    "414": {"description": "The URL is longer than 8,190 characters", "content": _ERROR_CONTENT},
    "503": {"description": "No index can be served yet", "content": _ERROR_CONTENT},
}
# Empty means "no limit", like leaving the parameter out; so does blank, as the parser strips
# it. Python's whitespace spelled out: a validator's \s (ECMA, Rust) leaves out \x1c-\x1f, \x85.
_BLANK = r"^[\t-\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+$"
_DAY = {"type": "string", "anyOf": [{"format": "date"}, {"maxLength": 0}, {"pattern": _BLANK}]}
_FILTER = {"type": "array", "maxItems": 20, "items": {"type": "string", "maxLength": 1000}}
MAX_PAGE = 999_999_999


def _param(name: str, description: str, schema: dict, **extra) -> dict:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": schema,
        **extra,
    }


OPENAPI: dict = {
    "openapi": "3.0.3",
    "info": {
        "title": "Digest Search API",
        "version": "1",
        "description": "Full-text search over bilingual (Chinese/English) news digests.",
    },
    "paths": {
        "/api/search": {
            "get": {
                "summary": "Search digests",
                "parameters": [
                    _param(
                        "q",
                        "Query in the query language; empty lists everything, newest first.",
                        {"type": "string", "maxLength": 1000},
                    ),
                    _param(
                        "tag",
                        "Tag filter; repeat for up to 20 values (blank ones count), all must match.",
                        _FILTER,
                        style="form",
                        explode=True,
                    ),
                    _param(
                        "author",
                        "Author filter; repeat for up to 20 values (blank ones count), any may match.",
                        _FILTER,
                        style="form",
                        explode=True,
                    ),
                    _param(
                        "from",
                        "First day, inclusive (YYYY-MM-DD); empty means no first day.",
                        _DAY,
                    ),
                    _param(
                        "to",
                        "Last day, inclusive (YYYY-MM-DD); empty means no last day.",
                        _DAY,
                    ),
                    _param(
                        "sort",
                        "Order of results; empty means relevance.",
                        {
                            "type": "string",
                            "enum": ["relevance", "newest", "oldest", ""],
                            "default": "relevance",
                        },
                    ),
                    _param(
                        "page",
                        "Page number, from 1; a page past the last one is empty.",
                        {"type": "integer", "minimum": 1, "maximum": MAX_PAGE, "default": 1},
                    ),
                    _param(
                        "per_page",
                        "Results per page.",
                        {"type": "integer", "minimum": 1, "maximum": 100, "default": 10},
                    ),
                ],
                "responses": {
                    "200": {
                        "description": "Results",
                        "content": {
                            "application/json": {
                                "schema": {"$ref": "#/components/schemas/SearchResponse"}
                            }
                        },
                    },
                    **_ERRORS,
                },
            }
        },
        "/api/doc/{id}": {
            "get": {
                "summary": "One document with its Markdown body and sanitised HTML",
                "parameters": [
                    {
                        "name": "id",
                        "in": "path",
                        "required": True,
                        "description": "Path below the corpus root without extension "
                        "(any characters, percent-encoded).",
                        "schema": {"type": "string"},
                    }
                ],
                "responses": {
                    "200": {
                        "description": "The document",
                        "content": {
                            "application/json": {
                                "schema": {"$ref": "#/components/schemas/Document"}
                            }
                        },
                    },
                    "404": {"description": "No document has this id", "content": _ERROR_CONTENT},
                    **_ERRORS,
                },
            }
        },
        "/api/openapi.json": {
            "get": {
                "summary": "This description",
                "responses": {
                    "200": {
                        "description": "OpenAPI 3",
                        "content": {"application/json": {"schema": {"type": "object"}}},
                    }
                },
            }
        },
        "/healthz": {
            "get": {
                "summary": "Liveness and the live index",
                "responses": {
                    "200": {
                        "description": "Status",
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/Health"}}
                        },
                    },
                    "503": _ERRORS["503"],
                },
            }
        },
    },
    "components": {
        "schemas": {
            "Error": {
                "type": "object",
                "required": ["error"],
                "properties": {
                    "error": {
                        "type": "object",
                        "required": ["code", "message"],
                        "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
                    }
                },
            },
            "FacetValue": {
                "type": "object",
                "required": ["value", "count"],
                "properties": {"value": {"type": "string"}, "count": {"type": "integer"}},
            },
            "Result": {
                "type": "object",
                "required": ["id", "title", "date", "tags", "url", "score", "highlights"],
                "properties": {
                    "id": {"type": "string"},
                    "title": {"type": "string"},
                    "description": {"type": "string"},
                    "date": {"type": "string", "format": "date-time", "nullable": True},
                    "tags": {"type": "array", "items": {"type": "string"}},
                    "author": {"type": "string"},
                    "url": {"type": "string"},
                    "score": {"type": "number"},
                    "highlights": {
                        "type": "object",
                        "description": "HTML-safe: everything escaped except <mark> around matches.",
                        "properties": {"title": {"type": "string"}, "snippet": {"type": "string"}},
                    },
                },
            },
            "SearchResponse": {
                "type": "object",
                "required": [
                    "query",
                    "total",
                    "page",
                    "per_page",
                    "took_ms",
                    "relaxed",
                    "results",
                    "facets",
                    "suggestion",
                    "notice",
                ],
                "properties": {
                    "query": {"type": "string"},
                    "total": {"type": "integer"},
                    "page": {"type": "integer"},
                    "per_page": {"type": "integer"},
                    "took_ms": {"type": "number"},
                    "relaxed": {"type": "boolean"},
                    "results": {"type": "array", "items": {"$ref": "#/components/schemas/Result"}},
                    "facets": {
                        "type": "object",
                        "properties": {
                            k: {
                                "type": "array",
                                "items": {"$ref": "#/components/schemas/FacetValue"},
                            }
                            for k in ("tags", "author", "date")
                        },
                    },
                    "suggestion": {"type": "string", "nullable": True},
                    "notice": {
                        "type": "string",
                        "nullable": True,
                        "description": "Said when the query was changed or dropped, e.g. "
                        "one with no searchable word lists everything.",
                    },
                },
            },
            "Document": {
                "type": "object",
                "required": ["id", "title", "date", "tags", "body", "html", "truncated", "related"],
                "properties": {
                    "id": {"type": "string"},
                    "title": {"type": "string"},
                    "description": {"type": "string"},
                    "date": {"type": "string", "nullable": True},
                    "tags": {"type": "array", "items": {"type": "string"}},
                    "author": {"type": "string"},
                    "category": {"type": "string"},
                    "url": {"type": "string"},
                    "extra": {"type": "object"},
                    "body": {
                        "type": "string",
                        "description": "The Markdown, or its start when truncated is true.",
                    },
                    "html": {"type": "string", "description": "body rendered and sanitised."},
                    "truncated": {
                        "type": "boolean",
                        "description": "True when the document is too long or too markup-heavy "
                        "to show whole: body and html hold its start.",
                    },
                    "body_length": {
                        "type": "integer",
                        "description": "Characters in the whole Markdown body.",
                    },
                    "related": {
                        "type": "array",
                        "maxItems": 5,
                        "description": "Other documents about the same story (copies, the same "
                        "source link) first, then about the same topic; never this one.",
                        "items": {"$ref": "#/components/schemas/Related"},
                    },
                },
            },
            "Related": {
                "type": "object",
                "required": ["id", "title", "date", "score"],
                "properties": {
                    "id": {"type": "string"},
                    "title": {"type": "string"},
                    "date": {"type": "string", "nullable": True},
                    "score": {
                        "type": "number",
                        "minimum": 0,
                        "maximum": 1,
                        "description": "Likeness to this document: 1 for a copy or the same "
                        "source, else the share of its key terms the other holds.",
                    },
                },
            },
            "Health": {
                "type": "object",
                "required": ["status", "documents", "built_at", "generation"],
                "properties": {
                    "status": {"type": "string"},
                    "documents": {"type": "integer"},
                    "built_at": {"type": "string"},
                    "updated_at": {"type": "string", "nullable": True},
                    "generation": {"type": "string"},
                    "user_dict": {"type": "boolean", "description": "A user dictionary is in use."},
                    "user_dict_changed": {
                        "type": "boolean",
                        "description": "The dictionary changed since the build: rebuild.",
                    },
                    "synonyms": {
                        "type": "object",
                        "description": "The synonyms file in use (taken in by indexer update).",
                        "properties": {
                            "hash": {"type": "string", "nullable": True},
                            "groups": {"type": "integer"},
                        },
                    },
                },
            },
        }
    },
}

# The feed takes the search's filters; it is always the newest 20, so sort and paging are not
# among its parameters.
_FEED_PARAMS = ("q", "tag", "author", "from", "to")
_VALIDATOR = {"description": "", "schema": {"type": "string"}}
OPENAPI["paths"]["/feed.atom"] = {
    "get": {
        "summary": "A search as an Atom 1.0 feed: its newest 20 digests",
        "parameters": [
            p
            for p in OPENAPI["paths"]["/api/search"]["get"]["parameters"]
            if p["name"] in _FEED_PARAMS
        ],
        "responses": {
            "200": {
                "description": "The feed; send its ETag in If-None-Match to be told when it changes",
                "headers": {
                    "ETag": {**_VALIDATOR, "description": "Changes with the index and the search"},
                    "Last-Modified": {**_VALIDATOR, "description": "When the index last changed"},
                },
                "content": {"application/atom+xml": {"schema": {"type": "string"}}},
            },
            "304": {"description": "Not modified since the ETag or date the request sent"},
            **_ERRORS,
        },
    }
}
