/** Template ids of Entra's built-in roles, used as the ids of Elevate's role definitions. */
export const RoleIds = {
  globalAdministrator: '62e90394-69f5-4237-9190-012177145e10',
  privilegedRoleAdministrator: 'e8611ab8-c189-46e8-94e1-60213ab1f814',
  userAdministrator: 'fe930be7-5e62-47db-91af-98c3a49a38b1',
  groupsAdministrator: 'fdd7a751-b60b-444a-984c-02652fe8fa1c',
  exchangeAdministrator: '29232cdf-9323-42fd-ade2-1d097af3e4de',
  officeAppsAdministrator: '2b745bdf-0803-4d80-aa65-822c4493daac',
  teamsAdministrator: '69091246-20e8-4a56-aa4d-066075b2a7a8',
  searchAdministrator: '0964bb5e-9bdb-4d7b-ac29-58e794862a40',
  sharePointAdministrator: 'f28a1f50-f6e7-4571-818b-6a12f2af6b6c',
  securityAdministrator: '194ae4cb-b126-40b2-bd5b-6091b380977d',
  globalReader: 'f2ef992c-3afb-46b9-b7cf-a126ee74c451',
  helpdeskAdministrator: '729827e3-9c14-49f7-bb1b-9608f156bbb8',
  securityReader: '5d6b6bb7-de71-4623-b4af-96380a352509',
} as const;

export interface BuiltInRole {
  id: string;
  displayName: string;
  description: string;
}

export const BUILT_IN_ROLES: BuiltInRole[] = [
  {
    id: RoleIds.globalAdministrator,
    displayName: 'Global Administrator',
    description: 'Can manage all aspects of the directory and of Elevate.',
  },
  {
    id: RoleIds.privilegedRoleAdministrator,
    displayName: 'Privileged Role Administrator',
    description: 'Can manage role assignments, PIM assignments and policies of every group.',
  },
  {
    id: RoleIds.userAdministrator,
    displayName: 'User Administrator',
    description: 'Can manage users.',
  },
  {
    id: RoleIds.groupsAdministrator,
    displayName: 'Groups Administrator',
    description: 'Can manage groups that are not role-assignable.',
  },
  {
    id: RoleIds.exchangeAdministrator,
    displayName: 'Exchange Administrator',
    description: 'Can manage all aspects of the Exchange product.',
  },
  {
    id: RoleIds.officeAppsAdministrator,
    displayName: 'Office Apps Administrator',
    description: 'Can manage Office apps cloud services.',
  },
  {
    id: RoleIds.teamsAdministrator,
    displayName: 'Teams Administrator',
    description: 'Can manage the Microsoft Teams service.',
  },
  {
    id: RoleIds.searchAdministrator,
    displayName: 'Search Administrator',
    description: 'Can create and manage all aspects of Microsoft Search settings.',
  },
  {
    id: RoleIds.sharePointAdministrator,
    displayName: 'SharePoint Administrator',
    description: 'Can manage all aspects of the SharePoint service.',
  },
  {
    id: RoleIds.securityAdministrator,
    displayName: 'Security Administrator',
    description: 'Can read security information and reports, and manage security settings.',
  },
  {
    id: RoleIds.globalReader,
    displayName: 'Global Reader',
    description: 'Can read everything that a Global Administrator can, but not change it.',
  },
  {
    id: RoleIds.helpdeskAdministrator,
    displayName: 'Helpdesk Administrator',
    description: 'Can reset passwords for non-administrators.',
  },
  {
    id: RoleIds.securityReader,
    displayName: 'Security Reader',
    description: 'Can read security information and reports.',
  },
];
