-- Onboarding by email: self-service registration (verified by a link before
-- anything is created), password reset, and invitations into a tenant.
-- Every emailed token is 256 random bits stored only as its SHA-256, used
-- once, and short-lived (bounded here, whatever the caller asks). Register
-- and forgot-password write one row whatever the email, so neither answers
-- faster for one kind of address (a write waits for the WAL flush).

-- A registration waiting for its email to be verified. Global (no tenant
-- exists yet), not granted to the runtime role: reached through the
-- functions below only.
create table pending_registrations (
    token_hash    text primary key,
    email         text not null,
    password_hash text not null,
    display_name  text not null,
    tenant_slug   text not null,
    tenant_name   text not null,
    created_at    timestamptz not null default now(),
    expires_at    timestamptz not null,
    used_at       timestamptz,
    constraint pending_registrations_token_format check (token_hash ~ '^[0-9a-f]{64}$')
);
create index pending_registrations_expires_idx on pending_registrations (expires_at);

-- A password reset sent to a user's mailbox. Global, not granted to the
-- runtime role. A row for an unknown email has no user and can never be
-- used.
create table password_resets (
    token_hash text primary key,
    user_id    uuid references users (id) on delete cascade,
    created_at timestamptz not null default now(),
    expires_at timestamptz not null,
    used_at    timestamptz,
    constraint password_resets_token_format check (token_hash ~ '^[0-9a-f]{64}$')
);
create index password_resets_user_idx on password_resets (user_id);
create index password_resets_expires_idx on password_resets (expires_at);

-- An invitation into a tenant, by email, with the role the invitee gets.
-- Revoking keeps the row (the history is the tenant's), so the runtime role
-- has no DELETE.
create table invitations (
    id          uuid primary key default gen_random_uuid(),
    tenant_id   uuid not null default nullif(current_setting('app.tenant_id', true), '')::uuid
                references tenants (id) on delete cascade,
    email       text not null,
    role        text not null,
    token_hash  text not null,
    invited_by  uuid references users (id) on delete set null,
    created_at  timestamptz not null default now(),
    expires_at  timestamptz not null,
    accepted_at timestamptz,
    accepted_by uuid references users (id) on delete set null,
    revoked_at  timestamptz,
    constraint invitations_email_format check (email = lower(email) and position('@' in email) > 1 and char_length(email) <= 320),
    constraint invitations_role_known check (role in ('admin', 'user', 'viewer')),
    constraint invitations_token_format check (token_hash ~ '^[0-9a-f]{64}$'),
    constraint invitations_settled_once check (accepted_at is null or revoked_at is null),
    constraint invitations_lifetime_bounded check (expires_at <= created_at + interval '31 days')
);
create unique index invitations_token_hash_key on invitations (token_hash);
-- One open invitation per email and tenant.
create unique index invitations_tenant_email_open_key on invitations (tenant_id, email)
    where accepted_at is null and revoked_at is null;
create index invitations_tenant_created_idx on invitations (tenant_id, created_at desc, id);
alter table invitations enable row level security;
alter table invitations force row level security;
create policy invitations_select on invitations for select
    using (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid);
create policy invitations_insert on invitations for insert
    with check (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid);
create policy invitations_update on invitations for update
    using (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid)
    with check (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid);
grant select, insert, update on invitations to app;

grant select, insert, update, delete on pending_registrations, password_resets to app_definer;
grant select, update on invitations to app_definer;
grant insert on users, memberships to app_definer;
grant update (verified_at) on users to app_definer;
grant create on schema public to app_definer;

-- Records a registration to verify. Answers `slug_taken` when the tenant
-- slug is in use (whoever asks), `known` when the email already has an
-- account (the row is stored all the same, but its token is never sent: the
-- caller mails a notice instead), else `pending`. Expired rows are swept on
-- the way.
create function auth_register_pending(
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
    insert into public.pending_registrations
        (token_hash, email, password_hash, display_name, tenant_slug, tenant_name, expires_at)
    values (p_token_hash, lower(p_email), p_password_hash, p_display_name, p_tenant_slug, p_tenant_name,
            now() + least(p_ttl, interval '7 days'));
    return case when known then 'known' else 'pending' end;
end;
$$;
alter function auth_register_pending(text, text, text, text, text, text, interval) owner to app_definer;
revoke all on function auth_register_pending(text, text, text, text, text, text, interval) from public;
grant execute on function auth_register_pending(text, text, text, text, text, text, interval) to app;

-- Follows a verification link: uses the token once and creates the verified
-- user, the tenant and the admin membership together. Outcome: `created`,
-- `invalid` (unknown, used or expired), `email_taken` or `slug_taken` (taken
-- since the registration; the token is used up either way).
create function auth_verify_registration(p_token_hash text)
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
    update public.pending_registrations r set used_at = now()
    where r.token_hash = p_token_hash and r.used_at is null and r.expires_at > now()
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
    values (pending.email, pending.password_hash, pending.display_name, now())
    returning id into new_user;
    insert into public.tenants (slug, name) values (pending.tenant_slug, pending.tenant_name)
    returning id into new_tenant;
    insert into public.memberships (tenant_id, user_id, role) values (new_tenant, new_user, 'admin');
    return query select 'created'::text, new_user, new_tenant, pending.tenant_slug, pending.tenant_name;
end;
$$;
alter function auth_verify_registration(text) owner to app_definer;
revoke all on function auth_verify_registration(text) from public;
grant execute on function auth_verify_registration(text) to app;

-- Starts a password reset for the account behind `p_email`: one row
-- whatever the email (without a user for an unknown one). Returns the user.
create function auth_start_password_reset(p_token_hash text, p_email text, p_ttl interval)
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
    values (p_token_hash, account, now() + least(p_ttl, interval '1 day'));
    return account;
end;
$$;
alter function auth_start_password_reset(text, text, interval) owner to app_definer;
revoke all on function auth_start_password_reset(text, text, interval) from public;
grant execute on function auth_start_password_reset(text, text, interval) to app;

-- Uses a reset token once: sets the new hash, marks the mailbox verified
-- (the link proved it) and voids the user's other open resets. Returns the
-- user, or null for an unknown, used or expired token.
create function auth_finish_password_reset(p_token_hash text, p_password_hash text)
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
alter function auth_finish_password_reset(text, text) owner to app_definer;
revoke all on function auth_finish_password_reset(text, text) from public;
grant execute on function auth_finish_password_reset(text, text) to app;

-- The user a reset token would reset, if it is usable now; uses nothing
-- (the API ends the user's sessions before the password changes).
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

-- Accepts an invitation by its token, for whoever holds the link: adds the
-- membership to the account of the invited email, creating that account
-- (verified: the link proved the mailbox) when there is none and a password
-- hash is given. Outcome: `accepted`, `already_member` (the invitation is
-- settled all the same), `invalid` (unknown, used, revoked or expired, or
-- the tenant is suspended), `password_required` (no account yet and no
-- password), `account_exists` (a password was given for an existing
-- account). Nothing changes unless the outcome is accepted or already_member;
-- `role` is the account's role in the tenant afterwards.
create function invitation_accept(p_token_hash text, p_password_hash text, p_display_name text)
returns table (outcome text, user_id uuid, tenant_id uuid, invitation_id uuid, role text, created_account boolean)
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    invite public.invitations;
    account uuid;
    created boolean := false;
    inserted integer;
begin
    select i.* into invite from public.invitations i
    join public.tenants t on t.id = i.tenant_id and t.status = 'active'
    where i.token_hash = p_token_hash and i.accepted_at is null and i.revoked_at is null and i.expires_at > now()
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
grant execute on function invitation_accept(text, text, text) to app;

revoke create on schema public from app_definer;
