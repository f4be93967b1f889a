"""models.py sources (and additions to them) shared by the CLI and review scenarios."""

POST_MODEL = """\
class Post(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    title = db.Column(db.String(200))
"""

NICKNAME_COLUMN = """\
from app import db


class User(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String(64))
    nickname = db.Column(db.String(32))
"""

MULTIDB_MODELS = """\
from app import db


class Post(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    title = db.Column(db.String(200))


class User(db.Model):
    __bind_key__ = "users"
    id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String(64))
"""

TAG_MODEL = """\
class Tag(db.Model):
    __bind_key__ = "users"
    id = db.Column(db.Integer, primary_key=True)
"""
