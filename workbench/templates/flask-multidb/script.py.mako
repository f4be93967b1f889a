<%doc>
    Revision script for the multi-database templates. upgrade()/downgrade()
    receive the engine name ('' for the default database) and dispatch to the
    matching per-database function; one pair is rendered per database.
</%doc>\
<%
    from flask import current_app

    configured_binds = current_app.config.get("SQLALCHEMY_BINDS")
    if configured_binds is not None:
        bind_names = [name for name in configured_binds if name is not None]
    else:
        legacy_bind_names = getattr(current_app.extensions["migrate"].db, "bind_names", None)
        bind_names = list(legacy_bind_names()) if legacy_bind_names else []
%>\
"""${message}

Revision ID: ${up_revision}
Revises: ${down_revision | comma,n}
Create Date: ${create_date}

"""
from alembic import op
import sqlalchemy as sa
${imports if imports else ""}

# revision identifiers, used by Alembic.
revision = ${repr(up_revision)}
down_revision = ${repr(down_revision)}
branch_labels = ${repr(branch_labels)}
depends_on = ${repr(depends_on)}


def upgrade(engine_name):
    globals()["upgrade_%s" % engine_name]()


def downgrade(engine_name):
    globals()["downgrade_%s" % engine_name]()




## (The blank lines above keep the output byte-identical to Flask-Migrate's.)
## One upgrade_<name>()/downgrade_<name>() pair per database ('' is the default).
% for name in [""] + bind_names:

def upgrade_${name}():
    ${context.get(name + "_upgrades", "pass")}


def downgrade_${name}():
    ${context.get(name + "_downgrades", "pass")}

% endfor
