//! `--image`: the manifest of `repository:tag` (or `@digest`) and its
//! smallest layer can be fetched with the access token, following the
//! registry's redirect to its data endpoint or storage as docker does.

use crate::acr::error_body;
use crate::acr::manifest::{valid_digest, Manifest, Platform};
use crate::check_spec::{CheckSpec, Planned};
use crate::checks::CheckId;
use crate::checks::CheckResult;
use crate::codes::ErrorCode;
use crate::net::connection::{self, Dial, Response, Session};
use crate::secret::Secret;

/// The `registry.image` check.
pub(crate) const CHECK: CheckSpec = CheckSpec {
    key: "registry.image",
    title: "Image pull",
    proves: "With --image: the manifest and the smallest layer can be fetched, following the \
        redirect to the data endpoint or storage; an index must have this machine's platform (or \
        --platform); a missing tag is told from a permission problem.",
    warnings: &[],
    codes: &[ErrorCode::ImagePullError],
    planned: Planned::WithImage,
};

const ACCEPT: &str = "application/vnd.oci.image.index.v1+json, \
    application/vnd.docker.distribution.manifest.list.v2+json, \
    application/vnd.oci.image.manifest.v1+json, \
    application/vnd.docker.distribution.manifest.v2+json";

pub(crate) struct Fetch<'a> {
    pub repository: &'a str,
    pub reference: &'a str,
    /// The platform an index must have an image for.
    pub platform: Platform,
    pub dial: Dial<'a>,
}

fn failed(step: &str, r: &Response) -> String {
    let acr = error_body::summary(&r.body)
        .map(|s| format!(" ({s})"))
        .unwrap_or_default();
    // A 404 with a valid token is a missing tag, not a permission problem.
    let why = match (
        r.status,
        error_body::parse(&r.body).first().map(|e| e.code.as_str()),
    ) {
        (404, Some("MANIFEST_UNKNOWN" | "NAME_UNKNOWN")) | (404, None) => {
            ": the tag or repository does not exist (the token was accepted)"
        }
        (401 | 403, _) => ": the identity may not pull from this repository",
        _ => "",
    };
    format!("{step} answered {}{acr}{why}", r.status)
}

async fn get_manifest(
    session: &mut Session,
    auth: &str,
    repo: &str,
    reference: &str,
) -> Result<Manifest, String> {
    let path = format!("/v2/{repo}/manifests/{reference}");
    let r = session
        .send(
            http::Method::GET,
            &path,
            &[("authorization", auth), ("accept", ACCEPT)],
            None,
        )
        .await
        .map_err(|e| format!("GET {path} failed: {e}"))?;
    if r.status != 200 {
        return Err(failed(&format!("GET {path}"), &r));
    }
    serde_json::from_slice(&r.body)
        .map_err(|e| format!("GET {path} returned no manifest JSON ({e})"))
}

/// The smallest layer's digest and size; for an index, of the image for
/// this machine's platform (or `--platform`), which must be there.
async fn smallest_layer(
    session: &mut Session,
    auth: &str,
    f: &Fetch<'_>,
) -> Result<(String, u64), String> {
    let mut manifest = get_manifest(session, auth, f.repository, f.reference).await?;
    if manifest.is_index() {
        let Some(entry) = manifest.pick(&f.platform) else {
            return Err(format!(
                "the image has no variant for {}, the platform that would pull it; it has {}. Pull \
                    on a matching machine, pass --platform, or publish that platform",
                f.platform,
                crate::report::and_list(&manifest.platforms())
            ));
        };
        let pick = entry.digest.clone();
        if !valid_digest(&pick) {
            return Err("the image index names a manifest by an invalid digest".into());
        }
        manifest = get_manifest(session, auth, f.repository, &pick).await?;
    }
    manifest
        .smallest_layer()
        .map(|(digest, size)| (digest.to_string(), size))
        .ok_or_else(|| "the manifest lists no layers (with a valid digest)".to_string())
}

/// Follows a blob redirect: a pre-signed URL (absolute, to an IP literal,
/// or relative to the blob's own URL), fetched on a connection of its own
/// and never with the registry's token.
async fn follow(blob_url: &url::Url, location: &str, f: &Fetch<'_>) -> Result<String, String> {
    let url = blob_url
        .join(location)
        .map_err(|_| "the registry redirected the layer to an invalid URL".to_string())?;
    crate::net::origin::remember_query_secrets(&url);
    let shown = crate::net::origin::describe(&url);
    if url.scheme() != "https" {
        return Err(format!(
            "the registry redirected the layer to {shown}, which is not HTTPS"
        ));
    }
    let host = url
        .host_str()
        .unwrap_or_default()
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_string();
    let port = url.port_or_known_default().unwrap_or(443);
    let mut conn = connection::open(&host, port, &f.dial)
        .await
        .map_err(|e| format!("the layer is served by {shown}, which cannot be reached ({e})"))?;
    let path = connection::path_and_query(&url);
    let r = conn
        .send(http::Method::GET, &path, &[], None, f.dial.timeout)
        .await
        .map_err(|e| e.to_string())?;
    if r.status == 200 {
        Ok(host)
    } else {
        Err(failed(&format!("the layer download from {shown}"), &r))
    }
}

pub(crate) async fn check(session: &mut Session, access: &Secret, f: Fetch<'_>) -> CheckResult {
    let id = CheckId::RegistryImage;
    let image = if f.reference.starts_with("sha256:") {
        format!("{}@{}", f.repository, f.reference)
    } else {
        format!("{}:{}", f.repository, f.reference)
    };
    let auth = format!("Bearer {}", access.expose());
    let (digest, size) = match smallest_layer(session, &auth, &f).await {
        Ok(found) => found,
        Err(why) => {
            return CheckResult::fail(
                id,
                ErrorCode::ImagePullError,
                format!("Image '{image}': {why}"),
            )
        }
    };
    let path = format!("/v2/{}/blobs/{digest}", f.repository);
    let served_by = match session
        .send(http::Method::GET, &path, &[("authorization", &auth)], None)
        .await
    {
        Err(e) => Err(format!("GET {path} failed: {e}")),
        Ok(r) if r.status == 200 => Ok(session.authority()),
        Ok(r) if (300..400).contains(&r.status) => match r.header("location") {
            Some(loc) => {
                let blob_url = url::Url::parse(&format!("https://{}{path}", session.authority()))
                    .map_err(|e| format!("GET {path}: {e}"));
                match blob_url {
                    Ok(base) => follow(&base, &loc, &f).await,
                    Err(e) => Err(e),
                }
            }
            None => Err(format!(
                "GET {path} redirected ({}) without a Location",
                r.status
            )),
        },
        Ok(r) => Err(failed(&format!("GET {path}"), &r)),
    };
    match served_by {
        Ok(host) => CheckResult::pass(
            id,
            format!(
                "Pull of '{image}': manifest and smallest layer ({size} bytes, from {host}) : OK"
            ),
        )
        .with_detail("layer", digest)
        .with_detail("layer_host", host),
        Err(why) => CheckResult::fail(
            id,
            ErrorCode::ImagePullError,
            format!("Image '{image}': {why}"),
        )
        .with_detail("layer", digest),
    }
}
