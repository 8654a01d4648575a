"""The schema documents itself: every type, field, argument, input field, enum value and our own
directives (and their arguments) in the committed schema.graphql have a description.

Only what GraphQL itself defines is exempt: the specified scalars (String, Int, Float, Boolean, ID),
the introspection types and the specified directives (@skip, @include, @deprecated, @specifiedBy, @oneOf).
"""

from __future__ import annotations

from pathlib import Path

from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
    build_schema,
    is_introspection_type,
    is_specified_directive,
    is_specified_scalar_type,
)

SCHEMA = Path(__file__).resolve().parents[3] / "schema.graphql"


def _described(description: str | None) -> bool:
    return bool(description and description.strip())


def undocumented(schema: GraphQLSchema) -> list[str]:
    """Every schema element without a description, as ``Type``, ``Type.field``, ``Type.field(arg)``,
    ``Enum.VALUE``, ``@directive`` or ``@directive(arg)``."""
    missing: list[str] = []

    def need(where: str, description: str | None) -> None:
        if not _described(description):
            missing.append(where)

    for name, named in sorted(schema.type_map.items()):
        if is_introspection_type(named) or is_specified_scalar_type(named):
            continue
        need(name, named.description)
        if isinstance(named, (GraphQLObjectType, GraphQLInterfaceType)):
            for field_name, field in named.fields.items():
                need(f"{name}.{field_name}", field.description)
                for arg_name, arg in field.args.items():
                    need(f"{name}.{field_name}({arg_name})", arg.description)
        elif isinstance(named, GraphQLInputObjectType):
            for field_name, field in named.fields.items():
                need(f"{name}.{field_name}", field.description)
        elif isinstance(named, GraphQLEnumType):
            for value_name, value in named.values.items():
                need(f"{name}.{value_name}", value.description)
    for directive in schema.directives:
        if is_specified_directive(directive):
            continue
        need(f"@{directive.name}", directive.description)
        for arg_name, arg in directive.args.items():
            need(f"@{directive.name}({arg_name})", arg.description)
    return missing


def test_every_schema_element_is_described():
    missing = undocumented(build_schema(SCHEMA.read_text()))
    assert not missing, f"{len(missing)} schema elements have no description:\n" + "\n".join(missing)


def test_the_check_finds_what_is_missing():
    schema = build_schema(
        '''
        """Documented."""
        directive @mine(
          """Documented."""
          a: Int
          b: Int
        ) on FIELD_DEFINITION

        """Documented."""
        type Query {
          """Documented."""
          thing(x: Int, """Documented.""" y: Int): Kind
          bare: Int
        }

        enum Kind {
          """Documented."""
          ONE
          TWO
        }

        """Documented."""
        input In {
          """  """
          blank: Int
        }

        scalar Raw
        '''
    )
    assert undocumented(schema) == [
        "In.blank",
        "Kind",
        "Kind.TWO",
        "Query.thing(x)",
        "Query.bare",
        "Raw",
        "@mine(b)",
    ]
