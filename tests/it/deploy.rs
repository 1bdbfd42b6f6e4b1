//! The node Job a cluster admits (`deploy/node-check-job.yaml`): valid,
//! strictly, for every Kubernetes minor version AKS supports (validated
//! offline by kubernetes-validate, whose bundled schemas need no cluster),
//! and holding what the node check needs and no more.

use serde_yaml_ng::Value;
use std::path::Path;
use std::process::Command;

const JOB: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/deploy/node-check-job.yaml");

/// AKS's supported minors in December 2026, with its long-term-support and
/// preview versions.
const AKS_VERSIONS: [&str; 6] = ["1.32.0", "1.33.0", "1.34.0", "1.35.0", "1.36.0", "1.37.0"];

#[test]
fn the_node_job_validates_strictly_for_every_version_aks_supports() {
    for version in AKS_VERSIONS {
        let out = Command::new("kubernetes-validate")
            .args(["--strict", "--kubernetes-version", version, JOB])
            .output()
            .expect("kubernetes-validate (PyPI) is needed: .ci/run installs it");
        let said = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        // An unknown apiVersion is only a warning there: any warning fails.
        assert!(
            out.status.success() && !said.contains("WARN") && said.contains("passed"),
            "{version}: {said}"
        );
    }
}

fn job() -> Value {
    serde_yaml_ng::from_str(&std::fs::read_to_string(Path::new(JOB)).unwrap()).unwrap()
}

#[test]
fn the_node_job_runs_the_node_check_pinned_to_one_node_with_least_privilege() {
    let job = job();
    let spec = &job["spec"];
    assert_eq!(spec["backoffLimit"], 0);
    assert!(spec["activeDeadlineSeconds"]
        .as_u64()
        .is_some_and(|s| s <= 600));
    assert!(spec["ttlSecondsAfterFinished"].is_number());
    let pod = &spec["template"]["spec"];
    assert_eq!(pod["hostNetwork"], true);
    assert_eq!(pod["automountServiceAccountToken"], false);
    assert_eq!(pod["nodeSelector"]["kubernetes.io/os"], "linux");
    let term = &pod["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
        ["nodeSelectorTerms"][0]["matchFields"][0];
    assert_eq!(term["key"], "metadata.name");
    assert_eq!(pod["tolerations"][0]["operator"], "Exists");
    assert!(
        pod["tolerations"][0]["key"].is_null(),
        "a toleration for every taint"
    );
    let container = &pod["containers"][0];
    let args: Vec<&str> = container["args"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    for wanted in ["--kubelet", "--json", "--ignore-errors"] {
        assert!(args.contains(&wanted), "{args:?}");
    }
    let root_at = args.iter().position(|a| *a == "--host-root").unwrap();
    assert_eq!(args[root_at + 1], "/host");
    let security = &container["securityContext"];
    assert_eq!(security["readOnlyRootFilesystem"], true);
    assert_eq!(security["allowPrivilegeEscalation"], false);
    assert_eq!(security["capabilities"]["drop"][0], "ALL");
    assert!(container["resources"]["limits"]["memory"].is_string());
    // The host's root, read-only, at /host.
    let mount = &container["volumeMounts"][0];
    assert_eq!(mount["mountPath"], "/host");
    assert_eq!(mount["readOnly"], true);
    assert_eq!(pod["volumes"][0]["hostPath"]["path"], "/");
}
