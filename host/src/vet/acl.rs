//! Windows only: who, besides you, can write a file or a folder, read from
//! its access control list — the Windows form of the strict-permissions
//! check (OpenSSH's StrictModes), used by the vet step.
//!
//! A file or folder is insecure when a user who belongs only to the broad
//! groups every account is in — Everyone, Authenticated Users and
//! BUILTIN\Users — may write it: change its bytes (`FILE_WRITE_DATA`,
//! `FILE_APPEND_DATA`), add or delete entries of a folder (the same bits, and
//! `FILE_DELETE_CHILD`), or take it over (`WRITE_DAC`, `WRITE_OWNER`). The
//! access control entries are read in order, as Windows does: a right denied
//! to one of those groups before it is granted stays denied. Entries that
//! only pass to children (`INHERIT_ONLY_ACE`) do not apply to the object. A
//! missing (NULL) access control list grants everyone everything.
//!
//! Ownership is not checked (see docs/platforms.md).
//!
//! This is one of the modules with `unsafe`: the Win32 security calls.

use std::{fs::File, io, os::windows::io::AsRawHandle, ptr};

use windows_sys::Win32::{
    Foundation::{LocalFree, ERROR_SUCCESS, GENERIC_ALL, GENERIC_WRITE},
    Security::{
        AclSizeInformation,
        Authorization::{GetSecurityInfo, SE_FILE_OBJECT},
        GetAce, GetAclInformation, IsWellKnownSid, WinAuthenticatedUserSid, WinBuiltinUsersSid,
        WinWorldSid, ACCESS_ALLOWED_ACE, ACE_HEADER, ACL, ACL_SIZE_INFORMATION,
        DACL_SECURITY_INFORMATION, INHERIT_ONLY_ACE, PSECURITY_DESCRIPTOR, WELL_KNOWN_SID_TYPE,
    },
    Storage::FileSystem::{
        FILE_ALL_ACCESS, FILE_APPEND_DATA, FILE_DELETE_CHILD, FILE_GENERIC_WRITE, FILE_WRITE_DATA,
        WRITE_DAC, WRITE_OWNER,
    },
    System::SystemServices::{
        ACCESS_ALLOWED_ACE_TYPE, ACCESS_ALLOWED_CALLBACK_ACE_TYPE, ACCESS_DENIED_ACE_TYPE,
    },
};

/// A group every account on the machine belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct BroadGroup {
    /// Its usual name (`BUILTIN\Users`).
    pub(crate) name: &'static str,
    /// Its security identifier (`S-1-5-32-545`).
    pub(crate) sid: &'static str,
    kind: WELL_KNOWN_SID_TYPE,
}

/// The groups whose write access makes a file or folder insecure.
const BROAD_GROUPS: [BroadGroup; 3] = [
    BroadGroup {
        name: "Everyone",
        sid: "S-1-1-0",
        kind: WinWorldSid,
    },
    BroadGroup {
        name: r"NT AUTHORITY\Authenticated Users",
        sid: "S-1-5-11",
        kind: WinAuthenticatedUserSid,
    },
    BroadGroup {
        name: r"BUILTIN\Users",
        sid: "S-1-5-32-545",
        kind: WinBuiltinUsersSid,
    },
];

/// The rights that let someone change what gets loaded.
const WRITE_RIGHTS: u32 =
    FILE_WRITE_DATA | FILE_APPEND_DATA | FILE_DELETE_CHILD | WRITE_DAC | WRITE_OWNER;

/// `mask` with the generic rights an applying entry may still hold mapped to
/// file rights.
fn file_rights(mask: u32) -> u32 {
    let mut rights = mask;
    if mask & GENERIC_ALL != 0 {
        rights |= FILE_ALL_ACCESS;
    }
    if mask & GENERIC_WRITE != 0 {
        rights |= FILE_GENERIC_WRITE;
    }
    rights
}

/// The first broad group (see [`BROAD_GROUPS`]) that may write the open file
/// or folder `object`, or `None`. The handle needs `READ_CONTROL` access
/// (any handle opened for reading has it).
pub(crate) fn writable_by(object: &File) -> io::Result<Option<BroadGroup>> {
    let mut dacl: *mut ACL = ptr::null_mut();
    let mut descriptor: PSECURITY_DESCRIPTOR = ptr::null_mut();
    // SAFETY: the handle is open for as long as `object` is borrowed; the out
    // pointers are valid for writes; the owner, group and SACL pointers may
    // be null because only the DACL is asked for.
    let status = unsafe {
        GetSecurityInfo(
            object.as_raw_handle(),
            SE_FILE_OBJECT,
            DACL_SECURITY_INFORMATION,
            ptr::null_mut(),
            ptr::null_mut(),
            &mut dacl,
            ptr::null_mut(),
            &mut descriptor,
        )
    };
    if status != ERROR_SUCCESS {
        return Err(io::Error::from_raw_os_error(status as i32));
    }
    let _descriptor = LocalBuffer(descriptor);
    if dacl.is_null() {
        // No DACL: full access for everyone.
        return Ok(Some(BROAD_GROUPS[0]));
    }
    // SAFETY: a non-null DACL from GetSecurityInfo points into `descriptor`,
    // which `_descriptor` keeps allocated until after the call.
    unsafe { first_writer(dacl) }
}

/// The first broad group that the access control list `dacl` lets write.
///
/// # Safety
///
/// `dacl` points to a valid ACL that stays allocated during the call.
unsafe fn first_writer(dacl: *const ACL) -> io::Result<Option<BroadGroup>> {
    let mut size = ACL_SIZE_INFORMATION::default();
    // SAFETY: `dacl` is valid (the caller's promise); `size` is an
    // ACL_SIZE_INFORMATION of the length given.
    let ok = unsafe {
        GetAclInformation(
            dacl,
            (&mut size as *mut ACL_SIZE_INFORMATION).cast(),
            std::mem::size_of::<ACL_SIZE_INFORMATION>() as u32,
            AclSizeInformation,
        )
    };
    if ok == 0 {
        return Err(io::Error::last_os_error());
    }
    let (mut granted, mut denied) = (0u32, 0u32);
    let mut first_writer = None;
    for index in 0..size.AceCount {
        let mut ace: *mut core::ffi::c_void = ptr::null_mut();
        // SAFETY: `dacl` is valid and `index` below its entry count; `ace`
        // is valid for a write.
        if unsafe { GetAce(dacl, index, &mut ace) } == 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: GetAce returned a pointer to an entry inside the ACL,
        // which starts with an ACE_HEADER.
        let header = unsafe { *ace.cast::<ACE_HEADER>() };
        if u32::from(header.AceFlags) & INHERIT_ONLY_ACE != 0 {
            continue;
        }
        let allows = match u32::from(header.AceType) {
            // A callback (conditional) entry may grant: count it as granting.
            ACCESS_ALLOWED_ACE_TYPE | ACCESS_ALLOWED_CALLBACK_ACE_TYPE => true,
            ACCESS_DENIED_ACE_TYPE => false,
            _ => continue,
        };
        // Allowed, allowed-callback and denied entries all start with the
        // layout of ACCESS_ALLOWED_ACE: header, mask, then the SID.
        let entry = ace.cast::<ACCESS_ALLOWED_ACE>();
        // SAFETY: `entry` points to such an entry; the mask is read by value.
        let mask = file_rights(unsafe { (*entry).Mask }) & WRITE_RIGHTS;
        // SAFETY: as above; `SidStart` is the first word of the entry's SID.
        let sid = unsafe { ptr::addr_of_mut!((*entry).SidStart) }.cast();
        let Some(group) = BROAD_GROUPS
            .iter()
            // SAFETY: `sid` points to the entry's SID, which the call only reads.
            .find(|g| unsafe { IsWellKnownSid(sid, g.kind) } != 0)
        else {
            continue;
        };
        if allows {
            let new = mask & !denied & !granted;
            if new != 0 && first_writer.is_none() {
                first_writer = Some(*group);
            }
            granted |= new;
        } else {
            denied |= mask & !granted;
        }
    }
    Ok(first_writer)
}

/// Memory the security functions allocated, freed with `LocalFree`.
struct LocalBuffer(PSECURITY_DESCRIPTOR);

impl Drop for LocalBuffer {
    fn drop(&mut self) {
        if !self.0.is_null() {
            // SAFETY: the pointer came from GetSecurityInfo, which allocates
            // with LocalAlloc, and is freed once.
            unsafe { LocalFree(self.0) };
        }
    }
}

#[cfg(test)]
mod tests {
    use windows_sys::Win32::{
        Foundation::GENERIC_WRITE,
        Security::{
            AddAccessAllowedAceEx, AddAccessDeniedAceEx, CreateWellKnownSid, InitializeAcl,
            WinAuthenticatedUserSid, WinBuiltinUsersSid, WinLocalSystemSid, WinWorldSid, ACL,
            ACL_REVISION, CONTAINER_INHERIT_ACE, INHERIT_ONLY_ACE, OBJECT_INHERIT_ACE,
            SECURITY_MAX_SID_SIZE, WELL_KNOWN_SID_TYPE,
        },
        Storage::FileSystem::{
            FILE_APPEND_DATA, FILE_GENERIC_EXECUTE, FILE_GENERIC_READ, FILE_WRITE_DATA, WRITE_OWNER,
        },
    };

    /// An access control list built in memory, entry by entry.
    struct TestAcl {
        /// Room for the ACL, aligned for it.
        buffer: Vec<u64>,
    }

    impl TestAcl {
        fn new() -> Self {
            let mut buffer = vec![0u64; 256];
            // SAFETY: the buffer has the length given, and is aligned.
            let ok = unsafe { InitializeAcl(buffer.as_mut_ptr().cast(), 256 * 8, ACL_REVISION) };
            assert!(ok != 0, "InitializeAcl");
            Self { buffer }
        }

        fn add(mut self, allow: bool, who: WELL_KNOWN_SID_TYPE, flags: u32, mask: u32) -> Self {
            let mut sid = [0u8; SECURITY_MAX_SID_SIZE as usize];
            let mut len = SECURITY_MAX_SID_SIZE;
            // SAFETY: `sid` has room for any SID; these groups need no domain.
            let made = unsafe {
                CreateWellKnownSid(who, std::ptr::null_mut(), sid.as_mut_ptr().cast(), &mut len)
            };
            assert!(made != 0, "CreateWellKnownSid");
            let acl: *mut ACL = self.buffer.as_mut_ptr().cast();
            let sid = sid.as_mut_ptr().cast();
            // SAFETY: `acl` was initialised with room to spare; `sid` is valid.
            let ok = unsafe {
                if allow {
                    AddAccessAllowedAceEx(acl, ACL_REVISION, flags, mask, sid)
                } else {
                    AddAccessDeniedAceEx(acl, ACL_REVISION, flags, mask, sid)
                }
            };
            assert!(ok != 0, "adding an entry");
            self
        }

        fn allow(self, who: WELL_KNOWN_SID_TYPE, mask: u32) -> Self {
            self.add(true, who, 0, mask)
        }

        fn deny(self, who: WELL_KNOWN_SID_TYPE, mask: u32) -> Self {
            self.add(false, who, 0, mask)
        }

        fn writer(&self) -> Option<&'static str> {
            // SAFETY: the buffer holds a valid ACL for as long as `self`.
            unsafe { super::first_writer(self.buffer.as_ptr().cast()) }
                .unwrap()
                .map(|group| group.name)
        }
    }

    const READ: u32 = FILE_GENERIC_READ | FILE_GENERIC_EXECUTE;

    #[test]
    fn reading_is_fine_and_writing_is_not_for_any_broad_group() {
        let usual = TestAcl::new()
            .allow(WinLocalSystemSid, super::FILE_ALL_ACCESS)
            .allow(WinBuiltinUsersSid, READ)
            .allow(WinWorldSid, READ);
        assert_eq!(usual.writer(), None);
        for (who, name) in [
            (WinWorldSid, "Everyone"),
            (WinAuthenticatedUserSid, r"NT AUTHORITY\Authenticated Users"),
            (WinBuiltinUsersSid, r"BUILTIN\Users"),
        ] {
            for mask in [
                FILE_WRITE_DATA,
                FILE_APPEND_DATA,
                WRITE_OWNER,
                GENERIC_WRITE,
            ] {
                let acl = TestAcl::new()
                    .allow(WinLocalSystemSid, READ)
                    .allow(who, mask);
                assert_eq!(acl.writer(), Some(name), "{name}, mask {mask:#x}");
            }
        }
    }

    #[test]
    fn entries_count_in_order_and_only_where_they_apply() {
        // Denied to Everyone before it is granted to Users: denied.
        let denied_first = TestAcl::new()
            .deny(WinWorldSid, FILE_WRITE_DATA)
            .allow(WinBuiltinUsersSid, FILE_WRITE_DATA);
        assert_eq!(denied_first.writer(), None);
        // Granted before it is denied: granted.
        let granted_first = TestAcl::new()
            .allow(WinBuiltinUsersSid, FILE_WRITE_DATA)
            .deny(WinWorldSid, FILE_WRITE_DATA);
        assert_eq!(granted_first.writer(), Some(r"BUILTIN\Users"));
        // A denial of one right leaves another granted.
        let partly = TestAcl::new()
            .deny(WinWorldSid, FILE_WRITE_DATA)
            .allow(WinWorldSid, FILE_WRITE_DATA | FILE_APPEND_DATA);
        assert_eq!(partly.writer(), Some("Everyone"));
        // An entry only for what the folder will contain does not apply to it.
        let for_children = TestAcl::new().add(
            true,
            WinBuiltinUsersSid,
            INHERIT_ONLY_ACE | OBJECT_INHERIT_ACE | CONTAINER_INHERIT_ACE,
            FILE_WRITE_DATA,
        );
        assert_eq!(for_children.writer(), None);
        // Other groups are not the check's business.
        let system = TestAcl::new().allow(WinLocalSystemSid, GENERIC_WRITE);
        assert_eq!(system.writer(), None);
    }
}
