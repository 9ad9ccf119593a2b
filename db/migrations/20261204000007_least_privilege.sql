-- Least privilege on the cross-tenant path. The runtime role `app` serves
-- the tenant routes; from here on it can execute only the definer functions
-- a signed-in tenant route needs, and those answer for the transaction's own
-- user (`app.user_id`) only. Sign-in, onboarding, API-key authentication and
-- provisioning run as `app_platform` (created by `tenantry-api bootstrap`,
-- LOGIN, NOSUPERUSER, NOBYPASSRLS, owns nothing), through a pool of its own
-- that the tenant routes never use. Emailed tokens reach the functions as
-- they were emailed and are hashed here, so a stored hash is never a
-- credential; the runtime role cannot read token or key hashes at all.

do $$
begin
    if not exists (select from pg_roles where rolname = 'app_platform') then
        raise exception 'role app_platform is missing: run `tenantry-api bootstrap` before migrating';
    end if;
end
$$;

grant create on schema public to app_definer;

-- The hash stored for an emailed token (lowercase hex of its SHA-256), or
-- an error for anything that is not one of ours.
create function email_token_hash(p_token text)
returns text
language plpgsql
immutable
set search_path = pg_catalog, pg_temp
as $$
begin
    if p_token is null or p_token !~ '^[0-9a-f]{64}$' then
        raise exception 'not an emailed token' using errcode = '22023';
    end if;
    return encode(sha256(convert_to(p_token, 'UTF8')), 'hex');
end;
$$;
revoke all on function email_token_hash(text) from public;
grant execute on function email_token_hash(text) to app_definer;

-- The acting user of the transaction, or an error when `p_user` is not it.
create function assert_acting_user(p_user uuid, p_caller text)
returns void
language plpgsql
stable
set search_path = pg_catalog, pg_temp
as $$
begin
    if p_user is null or p_user is distinct from nullif(current_setting('app.user_id', true), '')::uuid then
        raise exception '%: not the acting user of this transaction', p_caller using errcode = '42501';
    end if;
end;
$$;
revoke all on function assert_acting_user(uuid, text) from public;
grant execute on function assert_acting_user(uuid, text) to app_definer;

-- Provisioning: operators only, so the platform role only.
revoke execute on function provision_tenant(text, text, text) from app;
grant execute on function provision_tenant(text, text, text) to app_platform;
revoke execute on function list_tenants(uuid, integer) from app;
grant execute on function list_tenants(uuid, integer) to app_platform;

-- Sign-in by email: the platform role only.
revoke execute on function auth_find_user(text) from app;
grant execute on function auth_find_user(text) to app_platform;

grant execute on function record_security_event(text, text, text, text) to app_platform;

-- A user's tenants and profile: for the acting user only, and for the
-- platform role only (the identity routes; tenant routes never need them).
revoke execute on function auth_user_tenants(uuid) from app;
revoke execute on function auth_user_profile(uuid) from app;
create or replace function auth_user_tenants(p_user uuid)
returns table (tenant_id uuid, slug text, name text, status text, role text)
language plpgsql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
begin
    perform public.assert_acting_user(p_user, 'auth_user_tenants');
    return query
        select t.id, t.slug, t.name, t.status, m.role
        from public.memberships m
        join public.tenants t on t.id = m.tenant_id
        where m.user_id = p_user
        order by t.name, t.id;
end;
$$;
grant execute on function auth_user_tenants(uuid) to app_platform;

create or replace function auth_user_profile(p_user uuid)
returns table (email text, display_name text)
language plpgsql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
begin
    perform public.assert_acting_user(p_user, 'auth_user_profile');
    return query select u.email, u.display_name from public.users u where u.id = p_user;
end;
$$;
grant execute on function auth_user_profile(uuid) to app_platform;

-- Changing one's password: the current hash of the acting user, and a
-- compare-and-swap from it (a hash read earlier no longer matches once
-- someone else changed it).
drop function auth_set_password(uuid, text);

create function auth_password_hash(p_user uuid)
returns text
language plpgsql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
begin
    perform public.assert_acting_user(p_user, 'auth_password_hash');
    return (select u.password_hash from public.users u where u.id = p_user);
end;
$$;
alter function auth_password_hash(uuid) owner to app_definer;
revoke all on function auth_password_hash(uuid) from public;
grant execute on function auth_password_hash(uuid) to app_platform;

create function auth_change_password(p_user uuid, p_current_hash text, p_new_hash text)
returns boolean
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
begin
    perform public.assert_acting_user(p_user, 'auth_change_password');
    if p_new_hash is null or p_new_hash not like '$argon2id$%' then
        raise exception 'auth_change_password: not an argon2id hash' using errcode = '22023';
    end if;
    update public.users set password_hash = p_new_hash
    where id = p_user and password_hash = p_current_hash;
    return found;
end;
$$;
alter function auth_change_password(uuid, text, text) owner to app_definer;
revoke all on function auth_change_password(uuid, text, text) from public;
grant execute on function auth_change_password(uuid, text, text) to app_platform;

-- API keys are authenticated, not looked up: the record comes back only for
-- the right secret, and never the stored hash.
drop function api_key_lookup(text);

create function api_key_authenticate(p_prefix text, p_secret_hash text)
returns table (id uuid, tenant_id uuid, role text, expires_at timestamptz, tenant_status text)
language sql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
    select k.id, k.tenant_id, k.role, k.expires_at, t.status
    from public.api_keys k
    join public.tenants t on t.id = k.tenant_id
    where k.prefix = p_prefix and k.secret_hash = p_secret_hash
$$;
alter function api_key_authenticate(text, text) owner to app_definer;
revoke all on function api_key_authenticate(text, text) from public;
grant execute on function api_key_authenticate(text, text) to app_platform;

-- The runtime role writes token and key hashes (it creates invitations and
-- keys) but cannot read them back, nor change them afterwards: it updates
-- an invitation's revocation and a key's last use, nothing else.
revoke select on invitations from app;
grant select (id, tenant_id, email, role, invited_by, created_at, expires_at, accepted_at, accepted_by, revoked_at)
    on invitations to app;
revoke select on api_keys from app;
grant select (id, tenant_id, name, prefix, role, created_by, expires_at, last_used_at, created_at)
    on api_keys to app;
revoke update on invitations from app;
grant update (revoked_at) on invitations to app;
revoke update on api_keys from app;
grant update (last_used_at) on api_keys to app;

-- Registration keeps no password: whoever holds the verification link (the
-- mailbox owner) chooses it when verifying.
drop function auth_register_pending(text, text, text, text, text, text, interval);
drop function auth_verify_registration(text);
alter table pending_registrations drop column password_hash;

create function auth_register_pending(
    p_token text, p_email text, p_display_name text, p_tenant_slug text, p_tenant_name text, p_ttl interval
)
returns text
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    known boolean;
begin
    delete from public.pending_registrations where expires_at < now() - interval '1 day';
    if exists (select 1 from public.tenants where slug = p_tenant_slug) then
        return 'slug_taken';
    end if;
    known := exists (select 1 from public.users where email = lower(p_email));
    insert into public.pending_registrations
        (token_hash, email, display_name, tenant_slug, tenant_name, expires_at)
    values (public.email_token_hash(p_token), lower(p_email), p_display_name, p_tenant_slug, p_tenant_name,
            now() + least(p_ttl, interval '7 days'));
    return case when known then 'known' else 'pending' end;
end;
$$;
alter function auth_register_pending(text, text, text, text, text, interval) owner to app_definer;
revoke all on function auth_register_pending(text, text, text, text, text, interval) from public;
grant execute on function auth_register_pending(text, text, text, text, text, interval) to app_platform;

create function auth_verify_registration(p_token text, p_password_hash text)
returns table (outcome text, user_id uuid, tenant_id uuid, tenant_slug text, tenant_name text)
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    pending public.pending_registrations;
    new_user uuid;
    new_tenant uuid;
begin
    if p_password_hash is null or p_password_hash not like '$argon2id$%' then
        raise exception 'auth_verify_registration: not an argon2id hash' using errcode = '22023';
    end if;
    update public.pending_registrations r set used_at = now()
    where r.token_hash = public.email_token_hash(p_token) and r.used_at is null and r.expires_at > now()
    returning * into pending;
    if not found then
        return query select 'invalid'::text, null::uuid, null::uuid, null::text, null::text;
        return;
    end if;
    if exists (select 1 from public.users u where u.email = pending.email) then
        return query select 'email_taken'::text, null::uuid, null::uuid, null::text, null::text;
        return;
    end if;
    if exists (select 1 from public.tenants t where t.slug = pending.tenant_slug) then
        return query select 'slug_taken'::text, null::uuid, null::uuid, null::text, null::text;
        return;
    end if;
    insert into public.users (email, password_hash, display_name, verified_at)
    values (pending.email, p_password_hash, pending.display_name, now())
    returning id into new_user;
    insert into public.tenants (slug, name) values (pending.tenant_slug, pending.tenant_name)
    returning id into new_tenant;
    insert into public.memberships (tenant_id, user_id, role) values (new_tenant, new_user, 'admin');
    return query select 'created'::text, new_user, new_tenant, pending.tenant_slug, pending.tenant_name;
end;
$$;
alter function auth_verify_registration(text, text) owner to app_definer;
revoke all on function auth_verify_registration(text, text) from public;
grant execute on function auth_verify_registration(text, text) to app_platform;

-- Password resets take the emailed token, not a hash of the caller's
-- choosing, and run for the platform role only.
drop function auth_start_password_reset(text, text, interval);
drop function auth_finish_password_reset(text, text);
drop function auth_password_reset_user(text);

create function auth_start_password_reset(p_token text, p_email text, p_ttl interval)
returns uuid
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    account uuid;
begin
    delete from public.password_resets where expires_at < now() - interval '1 day';
    select u.id into account from public.users u where u.email = lower(p_email);
    insert into public.password_resets (token_hash, user_id, expires_at)
    values (public.email_token_hash(p_token), account, now() + least(p_ttl, interval '1 day'));
    return account;
end;
$$;
alter function auth_start_password_reset(text, text, interval) owner to app_definer;
revoke all on function auth_start_password_reset(text, text, interval) from public;
grant execute on function auth_start_password_reset(text, text, interval) to app_platform;

create function auth_finish_password_reset(p_token text, p_password_hash text)
returns uuid
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    account uuid;
begin
    if p_password_hash is null or p_password_hash not like '$argon2id$%' then
        raise exception 'auth_finish_password_reset: not an argon2id hash' using errcode = '22023';
    end if;
    update public.password_resets set used_at = now()
    where token_hash = public.email_token_hash(p_token) and user_id is not null and used_at is null
      and expires_at > now()
    returning user_id into account;
    if account is null then
        return null;
    end if;
    update public.users set password_hash = p_password_hash, verified_at = coalesce(verified_at, now())
    where id = account;
    update public.password_resets set used_at = now() where user_id = account and used_at is null;
    return account;
end;
$$;
alter function auth_finish_password_reset(text, text) owner to app_definer;
revoke all on function auth_finish_password_reset(text, text) from public;
grant execute on function auth_finish_password_reset(text, text) to app_platform;

create function auth_password_reset_user(p_token text)
returns uuid
language sql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
    select r.user_id from public.password_resets r
    where r.token_hash = public.email_token_hash(p_token) and r.user_id is not null and r.used_at is null
      and r.expires_at > now()
$$;
alter function auth_password_reset_user(text) owner to app_definer;
revoke all on function auth_password_reset_user(text) from public;
grant execute on function auth_password_reset_user(text) to app_platform;

-- Accepting an invitation. As before, plus: for an email that has an
-- account, the caller must be signed in as that account (`app.user_id`):
-- `sign_in_required` when nobody is, `wrong_account` when someone else is.
-- The link alone never adds an existing account to a tenant.
drop function invitation_accept(text, text, text);

create function invitation_accept(p_token text, p_password_hash text, p_display_name text)
returns table (outcome text, user_id uuid, tenant_id uuid, invitation_id uuid, role text, created_account boolean)
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    invite public.invitations;
    account uuid;
    acting uuid := nullif(current_setting('app.user_id', true), '')::uuid;
    created boolean := false;
    inserted integer;
begin
    select i.* into invite from public.invitations i
    join public.tenants t on t.id = i.tenant_id and t.status = 'active'
    where i.token_hash = public.email_token_hash(p_token) and i.accepted_at is null and i.revoked_at is null
      and i.expires_at > now()
    for update of i;
    if not found then
        return query select 'invalid'::text, null::uuid, null::uuid, null::uuid, null::text, false;
        return;
    end if;
    select u.id into account from public.users u where u.email = invite.email;
    if account is null and p_password_hash is null then
        return query select 'password_required'::text, null::uuid, null::uuid, null::uuid, null::text, false;
        return;
    end if;
    if account is not null and p_password_hash is not null then
        return query select 'account_exists'::text, null::uuid, null::uuid, null::uuid, null::text, false;
        return;
    end if;
    if account is not null and acting is null then
        return query select 'sign_in_required'::text, null::uuid, null::uuid, null::uuid, null::text, false;
        return;
    end if;
    if account is not null and acting <> account then
        return query select 'wrong_account'::text, null::uuid, null::uuid, null::uuid, null::text, false;
        return;
    end if;
    if account is null then
        if p_password_hash not like '$argon2id$%' then
            raise exception 'invitation_accept: not an argon2id hash' using errcode = '22023';
        end if;
        insert into public.users (email, password_hash, display_name, verified_at)
        values (invite.email, p_password_hash, coalesce(p_display_name, ''), now())
        returning id into account;
        created := true;
    else
        update public.users set verified_at = coalesce(verified_at, now()) where id = account;
    end if;
    insert into public.memberships (tenant_id, user_id, role) values (invite.tenant_id, account, invite.role)
    on conflict do nothing;
    get diagnostics inserted = row_count;
    update public.invitations set accepted_at = now(), accepted_by = account where id = invite.id;
    return query select case when inserted = 1 then 'accepted' else 'already_member' end,
        account, invite.tenant_id, invite.id, m.role, created
    from public.memberships m where m.tenant_id = invite.tenant_id and m.user_id = account;
end;
$$;
alter function invitation_accept(text, text, text) owner to app_definer;
revoke all on function invitation_accept(text, text, text) from public;
grant execute on function invitation_accept(text, text, text) to app_platform;

revoke create on schema public from app_definer;
