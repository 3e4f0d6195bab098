/// The jointops release, which jointopsd and jointopsctl both report (`--version`, and the
/// daemon's org.varlink.service.GetInfo).
package enum Release {
    package static let version = "0.1.0"
}
