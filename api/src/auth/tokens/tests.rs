//! The token attack suite: every way an access or refresh token can be
//! wrong is refused.

use super::*;

const ISSUER: &str = "tenantry";
const AUDIENCE: &str = "tenantry-api";

struct Fixture {
    keys: TokenKeys,
    signing_hex: String,
    public_hex: String,
    refresh_hex: String,
}

fn fixture() -> Fixture {
    let (signing_hex, public_hex, refresh_hex) = TokenKeys::generate_hex().unwrap();
    let keys = with_keys(&signing_hex, &[], &refresh_hex, ISSUER, AUDIENCE);
    Fixture { keys, signing_hex, public_hex, refresh_hex }
}

fn with_keys(signing: &str, previous: &[&str], refresh: &str, iss: &str, aud: &str) -> TokenKeys {
    let material = KeyMaterial { signing_key_hex: signing, previous_keys: previous, refresh_key_hex: refresh };
    TokenKeys::new(iss, aud, Duration::from_secs(600), &material).unwrap()
}

fn ids() -> (UserId, TenantId, SessionId) {
    (UserId::random(), TenantId::random(), SessionId::random())
}

/// Claims as an access token would carry them, with times shifted.
fn claims_at(keys: &TokenKeys, nbf_offset: i64, exp_offset: i64, kind: &str) -> Claims {
    let now = Utc::now();
    let mut claims = keys.base_claims(now, now + chrono::Duration::seconds(exp_offset), kind).unwrap();
    let nbf = (now + chrono::Duration::seconds(nbf_offset)).to_rfc3339_opts(SecondsFormat::Secs, true);
    claims.not_before(&nbf).unwrap();
    claims.subject(&Uuid::new_v4().to_string()).unwrap();
    claims.add_additional("tid", Uuid::new_v4().to_string()).unwrap();
    claims.add_additional("sid", Uuid::new_v4().to_string()).unwrap();
    claims
}

#[test]
fn a_fresh_access_token_verifies_and_carries_its_claims() {
    let f = fixture();
    let (user, tenant, session) = ids();
    let token = f.keys.issue_access(user, tenant, session).unwrap();
    assert!(token.starts_with("v4.public."), "{token}");
    let claims = f.keys.verify_access(&token).unwrap();
    assert_eq!((claims.user, claims.tenant, claims.session), (user, tenant, session));
    let lifetime = claims.expires_at - Utc::now();
    assert!(lifetime <= chrono::Duration::seconds(600) && lifetime > chrono::Duration::seconds(590));
}

#[test]
fn tokens_of_another_version_or_purpose_are_malformed() {
    let f = fixture();
    let (user, tenant, session) = ids();
    let public = f.keys.issue_access(user, tenant, session).unwrap();
    let refresh =
        f.keys.seal_refresh(&RefreshClaims { id: "a".repeat(64), family: session }, Duration::from_secs(60)).unwrap();
    // A v4.local (refresh) token offered as an access token.
    assert_eq!(f.keys.verify_access(&refresh), Err(TokenError::Malformed));
    // The same body under other headers.
    let body = public.trim_start_matches("v4.public.");
    for header in ["v3.public.", "v2.public.", "v4.local.", "v1.public."] {
        assert_eq!(f.keys.verify_access(&format!("{header}{body}")), Err(TokenError::Malformed), "{header}");
    }
    for garbage in ["", "Bearer", "v4.public.", "v4.public.!!!", "a.b.c.d.e", &"x".repeat(5000)] {
        assert!(f.keys.verify_access(garbage).is_err(), "{garbage:?} was accepted");
    }
}

#[test]
fn a_token_signed_with_another_key_under_our_key_id_fails() {
    let f = fixture();
    let (other_signing, _, _) = TokenKeys::generate_hex().unwrap();
    let other = AsymmetricSecretKey::<V4>::from(&from_hex(&other_signing, 64).unwrap()).unwrap();
    let payload = claims_at(&f.keys, 0, 600, ACCESS).to_string().unwrap();
    let footer = f.keys.footer().to_string().unwrap();
    let token = version4::PublicToken::sign(&other, payload.as_bytes(), Some(footer.as_bytes()), None).unwrap();
    assert_eq!(f.keys.verify_access(&token), Err(TokenError::BadSignature));
}

#[test]
fn an_unknown_key_id_is_refused() {
    let f = fixture();
    let (stranger_signing, _, _) = TokenKeys::generate_hex().unwrap();
    let stranger = with_keys(&stranger_signing, &[], &f.refresh_hex, ISSUER, AUDIENCE);
    let (user, tenant, session) = ids();
    let token = stranger.issue_access(user, tenant, session).unwrap();
    assert_eq!(f.keys.verify_access(&token), Err(TokenError::UnknownKey));
    // No footer at all.
    let without_footer = token.rsplit_once('.').unwrap().0;
    assert_eq!(f.keys.verify_access(without_footer), Err(TokenError::UnknownKey));
}

#[test]
fn expired_and_not_yet_valid_tokens_are_refused() {
    let f = fixture();
    let expired = f.keys.sign(&claims_at(&f.keys, -120, -60, ACCESS)).unwrap();
    assert_eq!(f.keys.verify_access(&expired), Err(TokenError::Expired));
    let early = f.keys.sign(&claims_at(&f.keys, 60, 600, ACCESS)).unwrap();
    assert_eq!(f.keys.verify_access(&early), Err(TokenError::NotYetValid));
}

#[test]
fn the_wrong_issuer_or_audience_is_refused() {
    let f = fixture();
    let (user, tenant, session) = ids();
    let other_issuer = with_keys(&f.signing_hex, &[], &f.refresh_hex, "someone-else", AUDIENCE);
    let token = other_issuer.issue_access(user, tenant, session).unwrap();
    assert_eq!(f.keys.verify_access(&token), Err(TokenError::WrongIssuer));
    let other_audience = with_keys(&f.signing_hex, &[], &f.refresh_hex, ISSUER, "another-api");
    let token = other_audience.issue_access(user, tenant, session).unwrap();
    assert_eq!(f.keys.verify_access(&token), Err(TokenError::WrongAudience));
}

#[test]
fn a_signed_token_of_another_type_is_refused() {
    let f = fixture();
    let refresh_typed = f.keys.sign(&claims_at(&f.keys, 0, 600, REFRESH)).unwrap();
    assert_eq!(f.keys.verify_access(&refresh_typed), Err(TokenError::WrongType));
}

#[test]
fn a_tampered_payload_or_footer_fails_the_signature() {
    let f = fixture();
    let (_, previous_public, _) = TokenKeys::generate_hex().unwrap();
    let keys = with_keys(&f.signing_hex, &[&previous_public], &f.refresh_hex, ISSUER, AUDIENCE);
    let (user, tenant, session) = ids();
    let token = keys.issue_access(user, tenant, session).unwrap();
    let (body, footer) = token.trim_start_matches("v4.public.").split_once('.').unwrap();

    // Flip one character of the signed payload (decoded: JSON plus signature).
    let mut chars: Vec<char> = body.chars().collect();
    chars[10] = if chars[10] == 'A' { 'B' } else { 'A' };
    let tampered: String = chars.into_iter().collect();
    assert_eq!(keys.verify_access(&format!("v4.public.{tampered}.{footer}")), Err(TokenError::BadSignature));

    // Swap the footer for one naming the other (known) key.
    let previous = AsymmetricPublicKey::<V4>::from(&from_hex(&previous_public, 32).unwrap()).unwrap();
    let mut other = Footer::new();
    other.key_id(&Id::from(&previous));
    let other_footer = base64_url(other.to_string().unwrap().as_bytes());
    assert_eq!(keys.verify_access(&format!("v4.public.{body}.{other_footer}")), Err(TokenError::BadSignature));
}

#[test]
fn rotation_accepts_the_previous_key_until_it_is_dropped() {
    let f = fixture();
    let (user, tenant, session) = ids();
    let old_token = f.keys.issue_access(user, tenant, session).unwrap();
    let (new_signing, _, _) = TokenKeys::generate_hex().unwrap();
    let rotated = with_keys(&new_signing, &[&f.public_hex], &f.refresh_hex, ISSUER, AUDIENCE);
    assert_ne!(rotated.signing_kid(), f.keys.signing_kid());
    assert!(f.keys.signing_kid().starts_with("k4.pid."));
    assert_eq!(rotated.verify_access(&old_token).map(|c| c.user), Ok(user));
    let new_token = rotated.issue_access(user, tenant, session).unwrap();
    assert!(rotated.verify_access(&new_token).is_ok());
    let dropped = with_keys(&new_signing, &[], &f.refresh_hex, ISSUER, AUDIENCE);
    assert_eq!(dropped.verify_access(&old_token), Err(TokenError::UnknownKey));
}

#[test]
fn refresh_tokens_are_opaque_and_checked() {
    let f = fixture();
    let claims = RefreshClaims { id: "ab".repeat(32), family: SessionId::random() };
    let token = f.keys.seal_refresh(&claims, Duration::from_secs(3600)).unwrap();
    assert!(token.starts_with("v4.local."));
    assert!(!token.contains(&claims.id), "the id must not be readable");
    assert_eq!(f.keys.open_refresh(&token), Ok(claims.clone()));

    // Another refresh key, a tampered token, an access token, an expired one.
    let (_, _, other_refresh) = TokenKeys::generate_hex().unwrap();
    let other = with_keys(&f.signing_hex, &[], &other_refresh, ISSUER, AUDIENCE);
    assert!(other.open_refresh(&token).is_err());
    let mut chars: Vec<char> = token.chars().collect();
    let last = chars.len() - 5;
    chars[last] = if chars[last] == 'A' { 'B' } else { 'A' };
    assert!(f.keys.open_refresh(&chars.into_iter().collect::<String>()).is_err());
    let (user, tenant, session) = ids();
    let access = f.keys.issue_access(user, tenant, session).unwrap();
    assert_eq!(f.keys.open_refresh(&access), Err(TokenError::Malformed));
    let expired = {
        let mut paseto = claims_at(&f.keys, -120, -60, REFRESH);
        paseto.token_identifier(&claims.id).unwrap();
        paseto.add_additional("fam", claims.family.to_string()).unwrap();
        local::encrypt(&f.keys.refresh, &paseto, None, None).unwrap()
    };
    assert_eq!(f.keys.open_refresh(&expired), Err(TokenError::Expired));
}

#[test]
fn unusable_key_material_is_reported() {
    let (signing, _, refresh) = TokenKeys::generate_hex().unwrap();
    let bad = |signing: &str, refresh: &str, ttl: u64| {
        let material = KeyMaterial { signing_key_hex: signing, previous_keys: &[], refresh_key_hex: refresh };
        TokenKeys::new(ISSUER, AUDIENCE, Duration::from_secs(ttl), &material).err()
    };
    assert!(bad("zz", &refresh, 600).is_some());
    assert!(bad(&signing, "00", 600).is_some());
    assert!(bad(&signing, &refresh, 3600).is_some(), "access tokens may not outlive 15 minutes");
    assert!(bad(&signing, &refresh, 600).is_none());
}

fn base64_url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |acc, (i, b)| acc | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..=chunk.len() {
            out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

#[test]
fn the_footer_key_id_reads_what_pasetors_writes_and_nothing_else() {
    let f = fixture();
    let footer = f.keys.footer();
    let bytes = footer.to_string().unwrap();
    let kid = footer_key_id(bytes.as_bytes()).unwrap();
    assert!(kid.starts_with("k4.pid."), "{kid}");
    assert_eq!(footer.get_claim("kid").and_then(|v| v.as_str()), Some(kid.as_str()));
    for bad in [&b""[..], b"{}", b"not json", br#"{"kid": 5}"#, br#"["kid"]"#] {
        assert_eq!(footer_key_id(bad), None, "{}", String::from_utf8_lossy(bad));
    }
}

#[tokio::test]
async fn remembered_tokens_are_found_by_their_exact_text_and_only_while_unexpired() {
    let f = fixture();
    let (user, tenant, session) = ids();
    let token = f.keys.issue_access(user, tenant, session).unwrap();
    let first = f.keys.verify_access_cached(&token).await.unwrap();
    assert_eq!((first.user, first.tenant, first.session), (user, tenant, session));
    assert_eq!(f.keys.verify_access_cached(&token).await.unwrap(), first);

    // A changed signature is not the remembered text: it is verified, and fails.
    let mut tampered = token.clone().into_bytes();
    let at = tampered.len() - 5;
    tampered[at] = if tampered[at] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).unwrap();
    assert!(f.keys.verify_access_cached(&tampered).await.is_err());

    // A remembered entry past its expiry is not used: the text is verified
    // again (here it is not a token at all).
    let expired = AccessClaims { expires_at: Utc::now() - chrono::Duration::seconds(1), ..first };
    f.keys.verified.insert("stale".to_owned(), expired).await;
    assert_eq!(f.keys.verify_access_cached("stale").await, Err(TokenError::Malformed));
}
