-- Onboarding, hardened: register and forgot-password write one row whatever
-- the email (so neither answers faster for one kind of address: a write
-- waits for the WAL flush), token lifetimes are bounded in the database,
-- and a reset can be looked at before it is used (to end the user's
-- sessions first).

-- A reset row for an unknown email has no user; it can never be used.
alter table password_resets alter column user_id drop not null;
alter table invitations add constraint invitations_lifetime_bounded
    check (expires_at <= created_at + interval '31 days');

grant create on schema public to app_definer;

create or replace function auth_register_pending(
    p_token_hash text, p_email text, p_password_hash text, p_display_name text,
    p_tenant_slug text, p_tenant_name text, p_ttl interval
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
    if p_password_hash is null or p_password_hash not like '$argon2id$%' then
        raise exception 'auth_register_pending: not an argon2id hash' using errcode = '22023';
    end if;
    delete from public.pending_registrations where expires_at < now() - interval '1 day';
    if exists (select 1 from public.tenants where slug = p_tenant_slug) then
        return 'slug_taken';
    end if;
    known := exists (select 1 from public.users where email = lower(p_email));
    -- Stored for a known email too (its token is never sent: the caller
    -- mails a notice), so both cost the same write.
    insert into public.pending_registrations
        (token_hash, email, password_hash, display_name, tenant_slug, tenant_name, expires_at)
    values (p_token_hash, lower(p_email), p_password_hash, p_display_name, p_tenant_slug, p_tenant_name,
            now() + least(p_ttl, interval '7 days'));
    return case when known then 'known' else 'pending' end;
end;
$$;

create or replace function auth_start_password_reset(p_token_hash text, p_email text, p_ttl interval)
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
    -- One row whatever the email (without a user for an unknown one).
    insert into public.password_resets (token_hash, user_id, expires_at)
    values (p_token_hash, account, now() + least(p_ttl, interval '1 day'));
    return account;
end;
$$;

create or replace function auth_finish_password_reset(p_token_hash text, p_password_hash text)
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
    where token_hash = p_token_hash and user_id is not null and used_at is null and expires_at > now()
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

-- The user a reset token would reset, if it is usable now; uses nothing.
create function auth_password_reset_user(p_token_hash text)
returns uuid
language sql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
    select r.user_id from public.password_resets r
    where r.token_hash = p_token_hash and r.user_id is not null and r.used_at is null and r.expires_at > now()
$$;
alter function auth_password_reset_user(text) owner to app_definer;
revoke all on function auth_password_reset_user(text) from public;
grant execute on function auth_password_reset_user(text) to app;

revoke create on schema public from app_definer;
