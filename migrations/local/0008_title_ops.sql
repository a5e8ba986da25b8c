-- A title's ops by title, in the inbox and the outbox: who created a title
-- (its first op) decides who may change it, checked for every pulled title
-- op (sync::apply `not_owner`). Partial: titles only.
CREATE INDEX inbox_title_ops ON inbox (entity_id) WHERE entity = 'title';
CREATE INDEX outbox_title_ops ON outbox (entity_id) WHERE entity = 'title';
