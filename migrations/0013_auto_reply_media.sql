-- An auto-reply may answer with a file or a place (the media issue): the rule's file as the
-- JSON app::model::RuleMedia (type, mimetype, size, filename, sha256; the bytes are in the
-- media store under that SHA-256, kept from when the rule was saved), or its place as the
-- JSON app::model::Location. NULL both: text or a menu. The retention sweep keeps a file any
-- rule names.
ALTER TABLE auto_reply_rules ADD COLUMN media TEXT;
ALTER TABLE auto_reply_rules ADD COLUMN location TEXT;
