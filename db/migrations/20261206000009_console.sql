-- A signed-in user may change their own display name (the console's
-- account page).

-- Ownership moves to app_definer, which needs CREATE on the schema for
-- that, only while this migration runs.
grant create on schema public to app_definer;
grant update (display_name) on users to app_definer;

-- The display name of the acting user (and no one else's).
create function auth_set_display_name(p_user uuid, p_display_name text)
returns boolean
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
begin
    perform public.assert_acting_user(p_user, 'auth_set_display_name');
    if p_display_name is null or char_length(p_display_name) > 200 then
        raise exception 'auth_set_display_name: not a display name' using errcode = '22023';
    end if;
    update public.users set display_name = p_display_name where id = p_user;
    return found;
end;
$$;
alter function auth_set_display_name(uuid, text) owner to app_definer;
revoke all on function auth_set_display_name(uuid, text) from public;
grant execute on function auth_set_display_name(uuid, text) to app_platform;

revoke create on schema public from app_definer;
