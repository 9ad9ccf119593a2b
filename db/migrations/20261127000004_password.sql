-- Changing one's password: the runtime role has no grant on users, so a
-- definer function sets the hash of one user, and nothing else.

grant update (password_hash) on users to app_definer;
grant create on schema public to app_definer;

create function auth_set_password(p_user uuid, p_hash text)
returns boolean
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
begin
    if p_hash is null or p_hash not like '$argon2id$%' then
        raise exception 'auth_set_password: not an argon2id hash' using errcode = '22023';
    end if;
    update public.users set password_hash = p_hash where id = p_user;
    return found;
end;
$$;
alter function auth_set_password(uuid, text) owner to app_definer;
revoke all on function auth_set_password(uuid, text) from public;
grant execute on function auth_set_password(uuid, text) to app;

revoke create on schema public from app_definer;
