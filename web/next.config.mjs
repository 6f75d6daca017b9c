/** @type {import('next').NextConfig} */
const nextConfig = {
  output: 'export',
  trailingSlash: true,
  images: { unoptimized: true },
  reactStrictMode: true,
  poweredByHeader: false,
  // the API runs on the same origin in production (`hil serve`); in `next dev` set HIL_API to proxy
  devIndicators: false,
};

export default nextConfig;
