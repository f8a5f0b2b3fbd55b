-- 001: shared helpers for every later table.

-- Keep updated_at current on UPDATE: attach with
--   CREATE TRIGGER t_x_updated BEFORE UPDATE ON x
--   FOR EACH ROW EXECUTE FUNCTION set_updated_at();
CREATE FUNCTION set_updated_at() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	NEW.updated_at := now();
	RETURN NEW;
END;
$$;
