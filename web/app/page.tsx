'use client';

import Link from 'next/link';
import { AskForm } from '@/components/AskForm';

export default function Home() {
  return (
    <>
      <h1>Ask a question</h1>
      <p className="muted">
        A workflow plans, queries and reads its documents; you approve the plan and the SQL before anything runs. Earlier runs are in{' '}
        <Link href="/history/">History</Link>, waiting decisions in <Link href="/approvals/">Approvals</Link>.
      </p>
      <section className="card">
        <AskForm />
      </section>
    </>
  );
}
