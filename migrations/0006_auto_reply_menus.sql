-- An auto-reply may open a menu (contract §6 via the interactive issue): the rule's
-- interactive form as JSON (app::model::InteractiveForm, without `to` and `text` — the text is
-- the rule's reply). NULL: a plain text reply.
ALTER TABLE auto_reply_rules ADD COLUMN interactive TEXT;
