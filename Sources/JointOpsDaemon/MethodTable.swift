import JointOpsProtocol

/// Which role each method needs. Introspection is open to every caller.
enum MethodTable {
    static let interfaces = ["org.varlink.service", "io.jointops.Operations", "io.jointops.Admin", "io.jointops.Units"]

    static let required: [String: Role] = [
        "org.varlink.service.GetInfo": .none,
        "org.varlink.service.GetInterfaceDescription": .none,
        "io.jointops.Operations.List": .view,
        "io.jointops.Operations.Show": .view,
        "io.jointops.Operations.History": .view,
        "io.jointops.Operations.Workflows": .view,
        "io.jointops.Operations.Overdue": .view,
        "io.jointops.Operations.Report": .view,
        "io.jointops.Operations.Evaluate": .view,
        "io.jointops.Operations.Rate": .operate,
        "io.jointops.Operations.Watch": .view,
        "io.jointops.Operations.Start": .operate,
        "io.jointops.Operations.Fire": .operate,
        "io.jointops.Operations.Advance": .operate,
        "io.jointops.Operations.Reinforce": .operate,
        "io.jointops.Operations.Reassign": .operate,
        "io.jointops.Operations.Hold": .operate,
        "io.jointops.Operations.Resume": .operate,
        "io.jointops.Operations.Escalate": .operate,
        "io.jointops.Operations.Acknowledge": .operate,
        "io.jointops.Operations.Note": .operate,
        "io.jointops.Operations.SetAttributes": .operate,
        "io.jointops.Operations.Cancel": .operate,
        "io.jointops.Operations.Close": .operate,
        "io.jointops.Units.List": .view,
        "io.jointops.Units.Regions": .view,
        "io.jointops.Units.Add": .operate,
        "io.jointops.Units.Change": .operate,
        "io.jointops.Units.Retire": .operate,
        "io.jointops.Units.SetStatus": .operate,
        "io.jointops.Units.Assign": .operate,
        "io.jointops.Units.Preempt": .operate,
        "io.jointops.Units.Import": .admin,
        "io.jointops.Admin.Metrics": .view,
        "io.jointops.Admin.Verify": .admin,
        "io.jointops.Admin.Backup": .admin,
        "io.jointops.Admin.Reload": .admin,
    ]
}
