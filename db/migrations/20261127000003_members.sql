-- The members of the current tenant with their emails. Users are global and
-- the runtime role has no grant on them, so this definer function reads
-- them, for the tenant in the transaction's context only (none without it).

grant create on schema public to app_definer;

create function tenant_members()
returns table (user_id uuid, email text, display_name text, role text, joined_at timestamptz)
language sql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
    select m.user_id, u.email, u.display_name, m.role, m.created_at
    from public.memberships m
    join public.users u on u.id = m.user_id
    where m.tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid
    order by u.email, m.user_id
$$;
alter function tenant_members() owner to app_definer;
revoke all on function tenant_members() from public;
grant execute on function tenant_members() to app;

revoke create on schema public from app_definer;
