"""The OpenAPI 3 description of the JSON endpoints (checked against the code by a test)."""

from __future__ import annotations

_ERROR = {
    "description": "The request cannot be answered as asked",
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
}


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
                        "Tag filter; repeat for more, all must match.",
                        {"type": "array", "items": {"type": "string"}},
                        style="form",
                        explode=True,
                    ),
                    _param(
                        "author",
                        "Author filter; repeat for more, any may match.",
                        {"type": "array", "items": {"type": "string"}},
                        style="form",
                        explode=True,
                    ),
                    _param(
                        "from",
                        "First day, inclusive (YYYY-MM-DD).",
                        {"type": "string", "format": "date"},
                    ),
                    _param(
                        "to",
                        "Last day, inclusive (YYYY-MM-DD).",
                        {"type": "string", "format": "date"},
                    ),
                    _param(
                        "sort",
                        "Order of results.",
                        {
                            "type": "string",
                            "enum": ["relevance", "newest", "oldest"],
                            "default": "relevance",
                        },
                    ),
                    _param(
                        "page",
                        "Page number, from 1.",
                        {"type": "integer", "minimum": 1, "default": 1},
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
                    "400": _ERROR,
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
                        "description": "Path below the corpus root without extension.",
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
                    "404": _ERROR,
                },
            }
        },
        "/api/openapi.json": {
            "get": {
                "summary": "This description",
                "responses": {"200": {"description": "OpenAPI 3"}},
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
                    }
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
                },
            },
            "Document": {
                "type": "object",
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
                    "body": {"type": "string"},
                    "html": {"type": "string"},
                },
            },
            "Health": {
                "type": "object",
                "properties": {
                    "status": {"type": "string"},
                    "documents": {"type": "integer"},
                    "built_at": {"type": "string"},
                    "generation": {"type": "string"},
                    "user_dict_changed": {"type": "boolean"},
                },
            },
        }
    },
}
