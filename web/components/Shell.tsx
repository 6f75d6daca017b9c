'use client';

import Link from 'next/link';
import { usePathname } from 'next/navigation';
import type { ReactNode } from 'react';
import { AuthProvider, useAuth } from './auth';

const NAV = [
  { href: '/', label: 'Ask' },
  { href: '/approvals/', label: 'Approvals' },
  { href: '/history/', label: 'History' },
  { href: '/workflows/', label: 'Workflows' },
  { href: '/knowledge/', label: 'Knowledge' },
];

function Nav() {
  const path = usePathname() ?? '/';
  const { hasKey, me, signOut } = useAuth();
  const norm = path.endsWith('/') ? path : `${path}/`;
  return (
    <header className="top">
      <a className="skip" href="#main">
        Skip to content
      </a>
      <Link href="/" className="brand">
        hil
      </Link>
      <nav aria-label="Main">
        <ul>
          {NAV.map((n) => {
            const active = n.href === '/' ? norm === '/' || norm.startsWith('/runs/') : norm.startsWith(n.href);
            return (
              <li key={n.href}>
                <Link href={n.href} aria-current={active ? 'page' : undefined}>
                  {n.label}
                </Link>
              </li>
            );
          })}
        </ul>
      </nav>
      {me ? (
        <span className="who small" title={`tenant ${me.tenant}`}>
          {me.user} · {me.role}
        </span>
      ) : null}
      {hasKey ? (
        <button type="button" className="link signout" onClick={signOut}>
          Sign out
        </button>
      ) : null}
    </header>
  );
}

export function Shell({ children }: { children: ReactNode }) {
  return (
    <AuthProvider>
      <Nav />
      <main id="main" className="page">
        {children}
      </main>
    </AuthProvider>
  );
}
