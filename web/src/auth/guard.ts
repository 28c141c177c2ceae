// Who may open a screen: `auth` screens need a session, `studio` screens a
// studio or platform admin, `admin` screens a platform admin. A signed-out
// visitor is sent to sign in (and back after); a signed-in one without the
// role, to the board. The server decides for real: this only spares a
// screen of refusals.
import type { Role } from '../api/types';

export interface ScreenMeta {
  auth?: boolean;
  studio?: boolean;
  admin?: boolean;
}

export type Access = 'open' | 'sign-in' | 'board';

export function accessTo(meta: ScreenMeta, role: Role | null): Access {
  if (!(meta.auth || meta.studio || meta.admin)) return 'open';
  if (role === null) return 'sign-in';
  if (meta.studio && role === 'user') return 'board';
  if (meta.admin && role !== 'platform_admin') return 'board';
  return 'open';
}
