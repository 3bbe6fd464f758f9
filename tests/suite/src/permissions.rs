//! Permissions for the tests' folders and files: private folders, Unix
//! modes, and (Windows) access control list entries.

use std::path::Path;

/// A temporary folder only this user can enter (0700 whatever the umask:
/// the host refuses folders others can write).
pub fn private_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("a temporary folder");
    set_mode(dir.path(), 0o700);
    dir
}

/// Sets a path's permission bits (on Unix; elsewhere nothing).
pub fn set_mode(path: &Path, mode: u32) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
    }
    #[cfg(not(unix))]
    let _ = (path, mode);
}

/// Windows: grants Everyone the rights in `mask` (`FILE_WRITE_DATA` and the
/// like) on `path`, with an entry added to its access control list.
///
/// Everyone, of the groups the host's check looks at, because Wine (where
/// the Windows tests run) keeps a file's access control list as its Unix
/// mode: an entry for Everyone becomes the "other" bits and reads back, one
/// for BUILTIN\Users is lost. The host's unit tests cover the other groups.
#[cfg(windows)]
pub fn grant_everyone(path: &Path, mask: u32) {
    use std::{os::windows::ffi::OsStrExt, ptr::null_mut};
    use windows_sys::Win32::{
        Foundation::{LocalFree, ERROR_SUCCESS},
        Security::{
            Authorization::{
                GetNamedSecurityInfoW, SetEntriesInAclW, SetNamedSecurityInfoW, EXPLICIT_ACCESS_W,
                GRANT_ACCESS, NO_MULTIPLE_TRUSTEE, SE_FILE_OBJECT, TRUSTEE_IS_SID,
                TRUSTEE_IS_WELL_KNOWN_GROUP, TRUSTEE_W,
            },
            CreateWellKnownSid, WinWorldSid, ACL, DACL_SECURITY_INFORMATION, NO_INHERITANCE,
            SECURITY_MAX_SID_SIZE,
        },
    };

    let wide: Vec<u16> = path.as_os_str().encode_wide().chain([0]).collect();
    let mut sid = [0u8; SECURITY_MAX_SID_SIZE as usize];
    let mut sid_len = SECURITY_MAX_SID_SIZE;
    // SAFETY: `sid` has room for any SID (`sid_len` says how much); a null
    // domain is allowed for Everyone.
    let made = unsafe {
        CreateWellKnownSid(
            WinWorldSid,
            null_mut(),
            sid.as_mut_ptr().cast(),
            &mut sid_len,
        )
    };
    assert!(made != 0, "CreateWellKnownSid failed");
    let mut old: *mut ACL = null_mut();
    let mut descriptor = null_mut();
    // SAFETY: `wide` is a NUL-terminated path; the out pointers are valid,
    // and only the DACL is asked for.
    let status = unsafe {
        GetNamedSecurityInfoW(
            wide.as_ptr(),
            SE_FILE_OBJECT,
            DACL_SECURITY_INFORMATION,
            null_mut(),
            null_mut(),
            &mut old,
            null_mut(),
            &mut descriptor,
        )
    };
    assert_eq!(
        status,
        ERROR_SUCCESS,
        "reading the ACL of {}",
        path.display()
    );
    let entry = EXPLICIT_ACCESS_W {
        grfAccessPermissions: mask,
        grfAccessMode: GRANT_ACCESS,
        grfInheritance: NO_INHERITANCE,
        Trustee: TRUSTEE_W {
            pMultipleTrustee: null_mut(),
            MultipleTrusteeOperation: NO_MULTIPLE_TRUSTEE,
            TrusteeForm: TRUSTEE_IS_SID,
            TrusteeType: TRUSTEE_IS_WELL_KNOWN_GROUP,
            ptstrName: sid.as_mut_ptr().cast(),
        },
    };
    let mut new: *mut ACL = null_mut();
    // SAFETY: one valid entry whose SID outlives the call; `old` points into
    // `descriptor`, still allocated.
    let status = unsafe { SetEntriesInAclW(1, &entry, old, &mut new) };
    assert_eq!(status, ERROR_SUCCESS, "SetEntriesInAclW");
    // SAFETY: `wide` is a NUL-terminated path and `new` a valid ACL; only
    // the DACL is set.
    let status = unsafe {
        SetNamedSecurityInfoW(
            wide.as_ptr(),
            SE_FILE_OBJECT,
            DACL_SECURITY_INFORMATION,
            null_mut(),
            null_mut(),
            new,
            null_mut(),
        )
    };
    // SAFETY: both were allocated with LocalAlloc by the calls above, and
    // are freed once.
    unsafe {
        LocalFree(new.cast());
        LocalFree(descriptor);
    }
    assert_eq!(
        status,
        ERROR_SUCCESS,
        "writing the ACL of {}",
        path.display()
    );
}
