/** @type {import('next').NextConfig} */
const nextConfig = {
  output: 'export',
  trailingSlash: true,
  images: { unoptimized: true },
  reactStrictMode: true,
  poweredByHeader: false,
  devIndicators: false,
  eslint: { ignoreDuringBuilds: true }, // no ESLint in this package: `tsc` (strict) checks the code
};

export default nextConfig;
