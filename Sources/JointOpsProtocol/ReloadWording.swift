/// What a failed reload keeps, in the words jointopsd logs (SIGHUP and Admin.Reload alike)
/// and `jointopsctl admin reload` prints. A reload reads the workflows and the jurisdiction
/// again and binds the unit roster to the new tree; if any of it fails, none of the three
/// changes.
package enum ReloadWording {
    package static let kept = "the workflows, the jurisdiction (regions file) and the unit roster stay as they were"
}
