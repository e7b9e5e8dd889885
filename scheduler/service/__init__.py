"""What the front doors call: the CLI, the daemon's control commands and the dashboard. One
module per job, no I/O formatting; each opens the database transactions it needs and leaves SQL
to ``scheduler.store``.

    validation   check a campaign file, plan what is valid
    sync         bring the store in line with the file
    queue        add, edit, cancel and approve posts outside the file
    drafts       a post as a person fills it in (CLI options, the web form), in the file's shape
    control      pause and resume (the kill switch)
    retraction   take sent posts down
    settlement   record what became of a delivery whose outcome is unknown
    reports      status and report data
    accounts     find, authorize and check the campaign's accounts (preflight, onboarding)
    clock        campaign time for the commands
"""
