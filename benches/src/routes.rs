//! Route tables: a realistic one (a GitHub-like REST API, written for these benches) and
//! synthetic ones of any size.

/// A GitHub-like REST API: 130 routes with parameters in the usual places.
pub fn github() -> Vec<String> {
    let repo = [
        "",
        "/issues",
        "/issues/{number}",
        "/issues/{number}/comments",
        "/issues/{number}/labels",
        "/issues/{number}/assignees",
        "/issues/{number}/events",
        "/issues/{number}/timeline",
        "/issues/comments",
        "/issues/comments/{comment_id}",
        "/issues/events",
        "/issues/events/{event_id}",
        "/labels",
        "/labels/{name}",
        "/milestones",
        "/milestones/{number}",
        "/milestones/{number}/labels",
        "/pulls",
        "/pulls/{pull_number}",
        "/pulls/{pull_number}/commits",
        "/pulls/{pull_number}/files",
        "/pulls/{pull_number}/merge",
        "/pulls/{pull_number}/reviews",
        "/pulls/{pull_number}/reviews/{review_id}",
        "/pulls/{pull_number}/comments",
        "/pulls/{pull_number}/requested_reviewers",
        "/pulls/comments",
        "/pulls/comments/{comment_id}",
        "/commits",
        "/commits/{sha}",
        "/commits/{sha}/comments",
        "/commits/{sha}/status",
        "/commits/{sha}/statuses",
        "/commits/{sha}/check-runs",
        "/branches",
        "/branches/{branch}",
        "/branches/{branch}/protection",
        "/tags",
        "/releases",
        "/releases/latest",
        "/releases/{release_id}",
        "/releases/{release_id}/assets",
        "/releases/assets/{asset_id}",
        "/contents/{*path}",
        "/readme",
        "/contributors",
        "/collaborators",
        "/collaborators/{username}",
        "/collaborators/{username}/permission",
        "/forks",
        "/stargazers",
        "/subscribers",
        "/subscription",
        "/hooks",
        "/hooks/{hook_id}",
        "/hooks/{hook_id}/pings",
        "/keys",
        "/keys/{key_id}",
        "/deployments",
        "/deployments/{deployment_id}",
        "/deployments/{deployment_id}/statuses",
        "/actions/runs",
        "/actions/runs/{run_id}",
        "/actions/runs/{run_id}/jobs",
        "/actions/runs/{run_id}/logs",
        "/actions/workflows",
        "/actions/workflows/{workflow_id}",
        "/actions/secrets",
        "/actions/secrets/{secret_name}",
        "/actions/artifacts",
        "/actions/artifacts/{artifact_id}",
        "/languages",
        "/topics",
        "/traffic/views",
        "/traffic/clones",
        "/stats/contributors",
        "/stats/commit_activity",
        "/compare/{basehead}",
        "/git/blobs",
        "/git/blobs/{file_sha}",
        "/git/trees/{tree_sha}",
        "/git/refs/{*ref}",
        "/git/commits/{commit_sha}",
        "/pages",
        "/pages/builds",
        "/notifications",
        "/events",
        "/projects",
        "/invitations",
        "/license",
    ];
    let mut routes: Vec<String> = repo
        .iter()
        .map(|r| format!("/repos/{{owner}}/{{repo}}{r}"))
        .collect();
    for r in [
        "/user",
        "/user/repos",
        "/user/orgs",
        "/user/followers",
        "/user/following",
        "/user/following/{username}",
        "/user/starred",
        "/user/starred/{owner}/{repo}",
        "/user/keys",
        "/user/keys/{key_id}",
        "/user/emails",
        "/user/issues",
        "/users/{username}",
        "/users/{username}/repos",
        "/users/{username}/orgs",
        "/users/{username}/followers",
        "/users/{username}/following",
        "/users/{username}/gists",
        "/users/{username}/events",
        "/users/{username}/starred",
        "/orgs/{org}",
        "/orgs/{org}/repos",
        "/orgs/{org}/members",
        "/orgs/{org}/members/{username}",
        "/orgs/{org}/teams",
        "/orgs/{org}/teams/{team_slug}",
        "/orgs/{org}/teams/{team_slug}/members",
        "/orgs/{org}/hooks",
        "/orgs/{org}/hooks/{hook_id}",
        "/orgs/{org}/events",
        "/gists",
        "/gists/public",
        "/gists/starred",
        "/gists/{gist_id}",
        "/gists/{gist_id}/comments",
        "/gists/{gist_id}/forks",
        "/gists/{gist_id}/star",
        "/search/repositories",
        "/search/code",
        "/search/issues",
        "/search/users",
        "/notifications",
        "/notifications/threads/{thread_id}",
        "/rate_limit",
        "/emojis",
        "/meta",
    ] {
        routes.push(r.to_owned());
    }
    routes
}

/// `n` routes: the GitHub-like ones first, then synthetic ones (`/api/v{k}/things{j}/{id}`).
pub fn table(n: usize) -> Vec<String> {
    let mut routes = github();
    routes.truncate(n);
    let mut k = 0;
    while routes.len() < n {
        routes.push(format!(
            "/api/v{}/things{}/{{id}}/action{}",
            k / 100,
            k % 100,
            k % 7
        ));
        k += 1;
    }
    routes
}

/// A concrete path for a route pattern: every `{param}` filled in.
pub fn concrete(pattern: &str) -> String {
    let mut out = String::new();
    let mut rest = pattern;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let close = rest[open..].find('}').map_or(rest.len(), |c| open + c);
        let name = &rest[open + 1..close];
        out.push_str(if name.starts_with('*') {
            "a/b.txt"
        } else {
            "42"
        });
        rest = &rest[(close + 1).min(rest.len())..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_have_the_asked_size_and_no_duplicates() {
        for n in [10, 100, 1_000, 10_000] {
            let t = table(n);
            assert_eq!(t.len(), n);
            let unique: std::collections::HashSet<_> = t.iter().collect();
            assert_eq!(unique.len(), n);
        }
        assert_eq!(
            concrete("/repos/{owner}/{repo}/contents/{*path}"),
            "/repos/42/42/contents/a/b.txt"
        );
    }
}
